"""The Parquet IO manager: round trips, partitions, projections, atomicity, metadata."""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datahub.lite.lite_util import get_datahub_lite

from dataplatform.catalog.sink import DataHubSink
from dataplatform.column_descriptions import column_description
from dataplatform.resources import parquet_io_manager
from dataplatform.resources.parquet_io_manager import (
    ALLOW_MISSING_PARTITIONS,
    COLUMNS,
    ROWS_ARE,
    ParquetIOManager,
    StreamedTable,
)
from platform_tests.events import materialization_metadata

days = dg.DailyPartitionsDefinition(start_date="2026-01-01")


@dg.asset(partitions_def=days)
def daily_numbers(context: dg.AssetExecutionContext) -> pd.DataFrame:
    day = context.partition_key
    return pd.DataFrame({"day": [day, day], "value": [1, 2], "label": ["a", None]})


def three_days_of_numbers(**metadata: object) -> dict[str, dg.AssetIn]:
    window = dg.TimeWindowPartitionMapping(start_offset=-2)
    return {"history": dg.AssetIn(key="daily_numbers", partition_mapping=window, metadata=metadata)}


@dg.asset(partitions_def=days, ins=three_days_of_numbers())
def three_day_window(history: pd.DataFrame) -> pd.DataFrame:
    return history


@dg.asset
def unpartitioned_numbers() -> pd.DataFrame:
    return pd.DataFrame({"value": [3.5, None]})


def materialize_days(io_manager: ParquetIOManager, *keys: str, assets=(daily_numbers,)) -> None:
    for key in keys:
        result = dg.materialize(assets, partition_key=key, resources={"io_manager": io_manager})
        assert result.success


def load_window(
    window: dg.AssetsDefinition, io_manager: ParquetIOManager
) -> dg.ExecuteInProcessResult:
    """Materialise `window` for 2026-01-03, loading its three days of `daily_numbers`."""
    return dg.materialize(
        [daily_numbers, window],
        selection=[window.key],
        partition_key="2026-01-03",
        resources={"io_manager": io_manager},
    )


def test_partition_written_to_its_own_file_with_standard_metadata(tmp_path: Path) -> None:
    io_manager = ParquetIOManager(base_path=str(tmp_path))
    result = dg.materialize(
        [daily_numbers], partition_key="2026-01-02", resources={"io_manager": io_manager}
    )

    path = tmp_path / "daily_numbers" / "2026-01-02.parquet"
    assert pq.read_table(path).num_rows == 2
    metadata = result.asset_materializations_for_node("daily_numbers")[0].metadata
    assert metadata["dagster/row_count"].value == 2
    schema = metadata["dagster/column_schema"].value
    assert [(c.name, c.type) for c in schema.columns] == [
        ("day", "string"),
        ("value", "int64"),
        ("label", "string"),
    ]
    assert metadata["path"].value == str(path)


@dg.asset(metadata={ROWS_ARE: "failing_conditions"})
def failing_conditions() -> pd.DataFrame:
    return pd.DataFrame({"check": ["nulls", "constant"]})


def test_rows_that_are_not_data_are_counted_under_their_own_name(tmp_path: Path) -> None:
    io_manager = ParquetIOManager(base_path=str(tmp_path))

    result = dg.materialize([failing_conditions], resources={"io_manager": io_manager})

    metadata = materialization_metadata(result, "failing_conditions")
    assert metadata["failing_conditions"].value == 2
    assert "dagster/row_count" not in metadata  # the UI's "Row count": the size of a table


def test_multi_partition_input_loads_the_whole_range(tmp_path: Path) -> None:
    io_manager = ParquetIOManager(base_path=str(tmp_path))
    materialize_days(io_manager, "2026-01-01", "2026-01-02", "2026-01-03")

    result = load_window(three_day_window, io_manager)

    window = result.output_for_node("three_day_window")
    assert sorted(window["day"].unique()) == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert len(window) == 6


def test_missing_upstream_partition_is_a_clear_error(tmp_path: Path) -> None:
    io_manager = ParquetIOManager(base_path=str(tmp_path))
    materialize_days(io_manager, "2026-01-03")

    with pytest.raises(FileNotFoundError, match=r"daily_numbers/2026-01-01\.parquet"):
        load_window(three_day_window, io_manager)


def test_projection_and_missing_partitions_allowed_by_input_metadata(tmp_path: Path) -> None:
    @dg.asset(
        partitions_def=days,
        ins=three_days_of_numbers(**{COLUMNS: ["value"], ALLOW_MISSING_PARTITIONS: True}),
    )
    def values_so_far(history: pd.DataFrame) -> pd.DataFrame:
        return history

    io_manager = ParquetIOManager(base_path=str(tmp_path))
    materialize_days(io_manager, "2026-01-03")
    result = load_window(values_so_far, io_manager)

    assert list(result.output_for_node("values_so_far").columns) == ["value"]
    assert len(result.output_for_node("values_so_far")) == 2


def test_round_trip_on_an_fsspec_url() -> None:
    io_manager = ParquetIOManager(base_path="memory://lake/data")
    dg.materialize([unpartitioned_numbers], resources={"io_manager": io_manager})

    stored = io_manager.path_for(unpartitioned_numbers.key)
    assert str(stored) == "memory://lake/data/unpartitioned_numbers.parquet"
    with stored.open("rb") as source:
        assert pq.read_table(source).column("value").to_pylist() == [3.5, None]


def test_failed_write_keeps_the_previous_version_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    io_manager = ParquetIOManager(base_path=str(tmp_path))
    materialize_days(io_manager, "2026-01-01")
    path = tmp_path / "daily_numbers" / "2026-01-01.parquet"
    before = path.read_bytes()

    def crash_mid_write(table, where, **kwargs) -> None:
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(parquet_io_manager.pq, "write_table", crash_mid_write)
    with pytest.raises(OSError, match="disk full"):
        materialize_days(io_manager, "2026-01-01")

    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["2026-01-01.parquet"]


def test_a_write_removes_the_temporaries_a_killed_process_left_but_not_a_recent_one(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "daily_numbers"
    folder.mkdir()
    abandoned = folder / ".2026-01-01.parquet.0123abcd.tmp"
    recent = folder / ".2026-01-01.parquet.4567ef01.tmp"
    other_day = folder / ".2026-01-02.parquet.89ab.tmp"
    for temporary in (abandoned, recent, other_day):
        temporary.write_bytes(b"PAR1 half a file")
    long_ago = time.time() - parquet_io_manager.ABANDONED_TEMPORARY_SECONDS - 60
    for temporary in (abandoned, other_day):
        os.utime(temporary, (long_ago, long_ago))

    materialize_days(ParquetIOManager(base_path=str(tmp_path)), "2026-01-01")

    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["2026-01-01.parquet", recent.name, other_day.name]
    )


def test_non_dataframe_output_is_refused_with_the_asset_named(tmp_path: Path) -> None:
    @dg.asset
    def not_a_frame() -> dict:
        return {"a": 1}

    with pytest.raises(TypeError, match="not_a_frame returned dict"):
        dg.materialize(
            [not_a_frame], resources={"io_manager": ParquetIOManager(base_path=str(tmp_path))}
        )


def test_unreachable_catalog_never_blocks_the_write_and_the_metadata_is_spooled(
    tmp_path: Path,
) -> None:
    datahub = DataHubSink(
        kind="rest", server="http://127.0.0.1:9", spool_dir=str(tmp_path / "spool")
    )
    io_manager = ParquetIOManager(base_path=str(tmp_path), datahub=datahub)

    result = dg.materialize(
        [daily_numbers], partition_key="2026-01-02", resources={"io_manager": io_manager}
    )

    assert result.success
    assert (tmp_path / "daily_numbers" / "2026-01-02.parquet").exists()
    metadata = materialization_metadata(result, "daily_numbers")
    assert metadata["datahub/delivery"].value == "spooled"
    assert "ConnectionError" in metadata["datahub/detail"].value
    assert len(datahub.spool.pending()) == 1


def batches_of(values: list[list[int]], fail_after: int | None = None) -> Iterator[pa.RecordBatch]:
    for number, chunk in enumerate(values):
        if number == fail_after:
            raise ValueError("the source broke mid-stream")
        yield pa.record_batch({"value": pa.array(chunk, pa.int64())})


def test_streamed_table_is_written_batch_by_batch(tmp_path: Path) -> None:
    @dg.asset
    def streamed() -> StreamedTable:
        schema = pa.schema([("value", pa.int64())])
        return StreamedTable(schema, batches_of([[1, 2], [3], [None, 5]]))

    result = dg.materialize(
        [streamed], resources={"io_manager": ParquetIOManager(base_path=str(tmp_path))}
    )

    written = pq.read_table(tmp_path / "streamed.parquet")
    assert written.column("value").to_pylist() == [1, 2, 3, None, 5]
    assert materialization_metadata(result, "streamed")["dagster/row_count"].value == 5


def test_stream_failing_midway_leaves_the_previous_version(tmp_path: Path) -> None:
    attempt = {"fail": False}

    @dg.asset
    def streamed() -> StreamedTable:
        schema = pa.schema([("value", pa.int64())])
        fail_after = 1 if attempt["fail"] else None
        return StreamedTable(schema, batches_of([[1], [2], [3]], fail_after=fail_after))

    io_manager = {"io_manager": ParquetIOManager(base_path=str(tmp_path))}
    dg.materialize([streamed], resources=io_manager)
    attempt["fail"] = True
    with pytest.raises(ValueError, match="mid-stream"):
        dg.materialize([streamed], resources=io_manager)

    assert pq.read_table(tmp_path / "streamed.parquet").column("value").to_pylist() == [1, 2, 3]
    assert [p.name for p in tmp_path.iterdir()] == ["streamed.parquet"]


@dg.asset(key=["cleaned", "listens"])
def described_listens() -> pd.DataFrame:
    return pd.DataFrame({"listen_id": ["a"], "ms_played": [1000], "scratch": [0.5]})


def test_written_columns_carry_their_declared_description_to_dagster_and_datahub(
    tmp_path: Path,
) -> None:
    lite_path = tmp_path / "lite.sqlite"
    datahub = DataHubSink(lite_path=str(lite_path), spool_dir=str(tmp_path / "spool"))
    io_manager = ParquetIOManager(base_path=str(tmp_path / "data"), datahub=datahub)
    result = dg.materialize([described_listens], resources={"io_manager": io_manager})

    schema = materialization_metadata(result, "cleaned", "listens")["dagster/column_schema"]
    described = {column.name: column.description for column in schema.value.columns}
    expected = {
        "listen_id": column_description("listens", "listen_id"),
        "ms_played": column_description("listens", "ms_played"),
        "scratch": None,  # nobody described it
    }
    assert described == expected and expected["ms_played"]
    lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(lite_path)}}, read_only=True)
    try:
        entity = cast(dict, lite.get(datahub.naming.dataset_urn(described_listens.key), None))
    finally:
        lite.close()
    assert entity is not None
    fields = entity["schemaMetadata"]["fields"]
    assert {f["fieldPath"]: f.get("description") for f in fields} == expected
