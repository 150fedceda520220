"""Quality reports on a table with a list column: judged as text, not a crash on hashing."""

from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dataplatform.catalog.sink import DataHubSink, SinkKind
from dataplatform.cleaning.tables import PLAYLISTS
from dataplatform.defs.quality.assets import cleaned_integrity_asset
from dataplatform.partitions import daily_partitions
from dataplatform.quality.checks import INTEGRITY_CHECKS, check_results
from dataplatform.quality.integrity import integrity_report
from dataplatform.quality.reports import ReportStore
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from platform_tests.quality import frames

DAY = "2026-03-04"
SOURCE = dg.AssetKey(["cleaned", "playlists"])


def playlists(rows: int = frames.ROWS, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    track_lists = [rng.choice(80, rng.integers(0, 12), replace=False).tolist() for _ in range(rows)]
    return pa.table(
        {
            "playlist_id": pa.array(range(rows), pa.int64()),
            "user_id": pa.array(rng.integers(0, 50, rows)),
            "name": pa.array(rng.choice(["Road trip", "Gym", "Sleep", "Focus"], rows)),
            "is_public": pa.array(rng.random(rows) < 0.6),
            "track_ids": pa.array(track_lists, pa.list_(pa.int64())),
            "updated_at": pa.array(
                pd.Timestamp(DAY, tz="UTC") + pd.to_timedelta(rng.integers(0, 86_400, rows), "s")
            ),
        },
        schema=PLAYLISTS.arrow_schema(),
    )


def as_read_back(table: pa.Table, tmp_path: Path) -> pd.DataFrame:
    """As the IO manager hands it over: list cells become numpy arrays, which do not hash."""
    pq.write_table(table, tmp_path / "playlists.parquet")
    return pq.read_table(tmp_path / "playlists.parquet").to_pandas()


def failed(report) -> set[str]:
    return {r.check_name for r in check_results(report, INTEGRITY_CHECKS) if not r.passed}


def test_integrity_report_judges_a_list_column_as_text(tmp_path: Path) -> None:
    frame = as_read_back(playlists(), tmp_path)
    assert isinstance(frame["track_ids"].iloc[0], np.ndarray)
    store = ReportStore(base_path=str(tmp_path))

    report = integrity_report(frame, store, SOURCE.path, DAY, exclude=["playlist_id"])
    stuck = frame.assign(track_ids=[frame["track_ids"].iloc[0]] * len(frame))
    stuck_report = integrity_report(stuck, store, ("stuck",), DAY, exclude=["playlist_id"])

    assert report.lists_as_text == ("track_ids",)
    assert failed(report) == set()
    assert failed(stuck_report) == {"is_single_value"}  # the list column is judged, not dropped


def test_integrity_asset_materialises_on_a_table_with_a_list_column(tmp_path: Path) -> None:
    path = tmp_path / "cleaned" / "playlists" / f"{DAY}.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(playlists(), path)
    integrity = cleaned_integrity_asset(PLAYLISTS)

    result = dg.materialize(
        [dg.AssetSpec(SOURCE, partitions_def=daily_partitions), integrity],
        selection=[integrity],
        partition_key=DAY,
        resources={
            "io_manager": ParquetIOManager(base_path=str(tmp_path)),
            "quality_reports": ReportStore(base_path=str(tmp_path)),
            "datahub": DataHubSink(kind=SinkKind.NONE),
        },
    )

    assert result.success
    metadata = result.asset_materializations_for_node(integrity.op.name)[0].metadata
    assert metadata["list_columns_judged_as_text"].value == "track_ids"
    assert metadata["checks_failed"].value == 0
    assert Path(metadata["report"].value).exists()
