"""A failed blocking check (schema drift) stops downstream assets; warnings do not."""

from pathlib import Path

import dagster as dg
import pandas as pd

from dataplatform.cleaning.tables import TRACKS
from dataplatform.defs.cleaning.assets import build_cleaned_asset
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from platform_tests.events import check_results

DAY = "2026-03-04"
clean_tracks = build_cleaned_asset(TRACKS)


@dg.asset(deps=[dg.AssetKey(["cleaned", "tracks"])], group_name="downstream")
def track_report() -> pd.DataFrame:
    return pd.DataFrame({"ok": [True]})


def write_raw_tracks(data: Path, frame: pd.DataFrame) -> None:
    path = data / "raw" / "tracks" / f"{DAY}.parquet"
    path.parent.mkdir(parents=True)
    frame.astype("string").to_parquet(path)


def raw_tracks(**overrides: list) -> pd.DataFrame:
    columns = {
        "track_id": ["1", "2"],
        "title": ["Song", "Other"],
        "artist": ["Band", "Band"],
        "album": ["A", None],
        "genre": ["Rock", "pop"],
        "duration_ms": ["200000", "180000"],
        "release_date": ["2020-01-01", "2021-05-05"],
        "popularity": ["50", "60"],
        "updated_at": ["2026-03-04T01:00:00Z", "2026-03-04T02:00:00Z"],
    }
    return pd.DataFrame(columns | overrides)


def materialize_with_downstream(data: Path) -> dg.ExecuteInProcessResult:
    raw = dg.AssetSpec(["raw", "tracks"], partitions_def=clean_tracks.partitions_def)
    return dg.materialize(
        [raw, clean_tracks, track_report],
        selection=[*clean_tracks.keys, track_report.key],
        partition_key=DAY,
        resources={"io_manager": ParquetIOManager(base_path=str(data))},
        raise_on_error=False,
    )


def test_clean_data_passes_checks_and_reaches_downstream(tmp_path: Path) -> None:
    write_raw_tracks(tmp_path, raw_tracks())

    result = materialize_with_downstream(tmp_path)

    assert result.success
    assert result.asset_materializations_for_node("track_report")


def test_schema_drift_blocks_downstream_but_keeps_the_data(tmp_path: Path) -> None:
    write_raw_tracks(tmp_path, raw_tracks().drop(columns=["genre"]))

    result = materialize_with_downstream(tmp_path)

    assert check_results(result)[("tracks", "schema_matches")] is False
    assert not result.asset_materializations_for_node("track_report")
    assert (tmp_path / "cleaned" / "tracks" / f"{DAY}.parquet").exists()
