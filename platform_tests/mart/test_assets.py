"""The mart group in Dagster: a day published by its assets, with metadata, in the refresh."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, cast

import dagster as dg
import pyarrow as pa
from datahub.lite.lite_local import DataHubLiteLocal
from datahub.lite.lite_util import get_datahub_lite
from platform_tests.events import materialization_metadata
from platform_tests.mart.conftest import DAY_1, DAY_2, users, write_source

from dataplatform import definitions
from dataplatform.catalog.naming import mart_table
from dataplatform.catalog.runs import finished_run
from dataplatform.catalog.sink import DataHubSink
from dataplatform.column_descriptions import column_description
from dataplatform.defs.mart.assets import daily_mart, model_marts
from dataplatform.mart.publish import MartConnection
from dataplatform.mart.schema import POSTGRES
from dataplatform.mart.tables import DAILY_TABLES
from dataplatform.mart.target import MartTarget, mart_target
from dataplatform.resources.mart_database import MartDatabase
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from dataplatform.settings import SinkKind

MART_ASSETS = [daily_mart, *model_marts]


def lite_sink(history: Path) -> DataHubSink:
    return DataHubSink(
        lite_path=str(history.parent / "catalog" / "datahub_lite.sqlite"),
        spool_dir=str(history.parent / "catalog" / "spool"),
    )


def materialise(
    history: Path, target: MartTarget, day: str, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        MART_ASSETS,
        partition_key=day,
        instance=instance,
        resources={
            "io_manager": ParquetIOManager(base_path=str(history)),
            "mart": MartDatabase.for_target(target),
            "datahub": lite_sink(history),
        },
    )


def read_lite(history: Path) -> DataHubLiteLocal[Any]:
    config = {"file": str(history.parent / "catalog" / "datahub_lite.sqlite")}
    return get_datahub_lite({"type": "sqlite", "config": config}, read_only=True)


def lite_entity(history: Path, urn: str) -> dict | None:
    lite = read_lite(history)
    try:
        return cast(dict | None, lite.get(urn, aspects=None))
    finally:
        lite.close()


def lite_ids(history: Path) -> list[str]:
    lite = read_lite(history)
    try:
        return list(lite.list_ids())
    finally:
        lite.close()


def test_a_day_is_published_with_row_counts_and_where(history: Path, target: MartTarget):
    materialise(history, target, DAY_1)
    result = materialise(history, target, DAY_2)

    assert result.success
    users = materialization_metadata(result, "mart", "users")
    assert users["dagster/row_count"].value == 5  # every version of both days
    assert users["day_rows"].value == 2
    assert users["database"].value == target.location
    listens = materialization_metadata(result, "mart", "listens")
    assert listens["dagster/row_count"].value == 4
    events = result.get_asset_materialization_events()
    published = {event.asset_key.to_user_string() for event in events if event.asset_key}
    assert published == {
        f"mart/{t}"
        for t in ("users", "tracks", "listens", "reviews", "user_entities", "user_golden")
    }  # no model has scored the day: nothing to publish, and no materialisation claimed


def test_scores_are_published_once_a_model_has_written_them(history: Path, target: MartTarget):
    predictions = pa.table(
        {
            "review_id": [f"r-{DAY_1}"],
            "rating": pa.array([5], pa.int64()),
            "predicted_label": pa.array([1], pa.int64()),
            "positive_probability": [0.93],
            "model_version": ["4"],
        }
    )
    write_source(history, ("models", "sentiment_predictions"), DAY_1, predictions)

    result = materialise(history, target, DAY_1)

    scored = materialization_metadata(result, "mart", "sentiment_predictions")
    assert scored["dagster/row_count"].value == 1


def test_the_daily_refresh_publishes_the_mart_after_what_it_reads() -> None:
    defs = definitions.defs()
    daily = defs.resolve_job_def("daily_refresh").asset_layer.executable_asset_keys
    mart = {key for key in daily if key.path[0] == "mart"}
    assert len(mart) == 8
    graph = defs.resolve_asset_graph()
    users = graph.get(dg.AssetKey(["mart", "users"]))
    assert dg.AssetKey(["cleaned", "users"]) in users.parent_keys
    recommendations = graph.get(dg.AssetKey(["mart", "recommendations"]))
    assert recommendations.parent_keys == {dg.AssetKey(["models", "recommendations"])}


def test_a_published_day_is_described_to_the_catalog_on_the_marts_platform(
    history: Path, target: MartTarget
):
    result = materialise(history, target, DAY_1)

    naming = DataHubSink().naming
    metadata = materialization_metadata(result, "mart", "users")
    urn = naming.table_urn(mart_table(target, "users"))
    assert metadata["datahub/urn"].value == urn
    assert metadata["datahub/delivery"].value == "sent"
    platform = "postgres" if target.is_postgres else "duckdb"
    assert f"urn:li:dataPlatform:{platform}," in urn
    users = lite_entity(history, urn)
    assert users is not None
    types = {f["fieldPath"]: f["nativeDataType"].lower() for f in users["schemaMetadata"]["fields"]}
    assert types["user_id"] == "bigint" and types["is_current"] == "boolean"
    assert types["valid_from"] == "timestamp with time zone"
    described = {f["fieldPath"]: f.get("description") for f in users["schemaMetadata"]["fields"]}
    assert described["city"] == column_description("users", "city")
    assert described["is_current"] == column_description("users", "is_current")
    assert all(described.values())
    assert users["datasetProfile"]["rowCount"] == 3


def test_an_unreachable_catalog_spools_and_the_day_is_still_published(
    history: Path, tmp_path: Path
):
    target = mart_target("", str(tmp_path))
    result = dg.materialize(
        MART_ASSETS,
        partition_key=DAY_1,
        resources={
            "io_manager": ParquetIOManager(base_path=str(history)),
            "mart": MartDatabase.for_target(target),
            "datahub": DataHubSink(
                kind=SinkKind.REST,
                server="http://127.0.0.1:9",  # nothing listens on the discard port
                timeout_seconds=1,
                spool_dir=str(tmp_path / "spool"),
            ),
        },
    )

    assert result.success
    metadata = materialization_metadata(result, "mart", "listens")
    assert metadata["dagster/row_count"].value == 2
    assert metadata["datahub/delivery"].value == "spooled"
    assert list((tmp_path / "spool").glob("*.json"))


def test_a_runs_outputs_in_the_catalog_are_the_mart_tables_it_published(
    history: Path, target: MartTarget
):
    datahub = lite_sink(history)
    with dg.instance_for_test() as instance:
        result = materialise(history, target, DAY_1, instance)
        run = instance.get_run_by_id(result.run_id)
        assert run is not None
        datahub.record_run(finished_run(instance, run))

    [process] = [
        entity
        for urn in lite_ids(history)
        if urn.startswith("urn:li:dataProcessInstance:")
        and (entity := lite_entity(history, urn)) is not None
    ]
    outputs = process["dataProcessInstanceOutput"]["outputs"]
    expected = {datahub.naming.table_urn(mart_table(target, table.name)) for table in DAILY_TABLES}
    assert set(outputs) == expected
    # Each is the dataset the mart described, schema and all.
    assert all(lite_entity(history, urn)["schemaMetadata"] for urn in outputs)  # type: ignore[index]


def column_comments(connection: MartConnection, table: str) -> dict[str, str | None]:
    """The comment on each column of the mart's `table`, as the database holds it."""
    if connection.dialect is POSTGRES:
        sql = (
            "SELECT attname, col_description(attrelid, attnum) FROM pg_attribute"
            f' WHERE attrelid = \'"{connection.schema_name}"."{table}"\'::regclass'
            " AND attnum > 0 AND NOT attisdropped"
        )
    else:
        sql = (
            "SELECT column_name, comment FROM duckdb_columns()"
            f" WHERE schema_name = '{connection.schema_name}' AND table_name = '{table}'"
        )
    return {str(name): comment for name, comment in connection.query(sql)}


def test_every_mart_column_carries_its_description_as_a_comment(
    history: Path,
    target: MartTarget,
    open_mart: Callable[[], AbstractContextManager[MartConnection]],
):
    materialise(history, target, DAY_1)
    new_column = users(DAY_2).append_column("plan", pa.array(["free", "paid"]))
    write_source(history, ("cleaned", "users"), DAY_2, new_column)
    materialise(history, target, DAY_2)

    with open_mart() as connection:
        comments = {table.name: column_comments(connection, table.name) for table in DAILY_TABLES}
    assert comments["users"]["city"] == column_description("users", "city")
    assert comments["users"]["valid_to"] == column_description("users", "valid_to")
    assert comments["user_golden"]["entity_id"] == column_description("user_golden", "entity_id")
    assert comments["users"]["plan"] is None  # a column nobody described gets no comment
    described = {
        (table, column): comment
        for table, columns in comments.items()
        for column, comment in columns.items()
        if column != "plan"
    }
    assert all(described.values()), [key for key, text in described.items() if not text]
