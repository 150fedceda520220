"""The mart's asset checks on real databases: a published day passes them; a corrupted mart
fails them, naming what was counted and the offending keys."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import cast

import dagster as dg
import pyarrow as pa
from datahub.lite.lite_util import get_datahub_lite
from platform_tests.mart.conftest import DAY_1, DAY_2, listens, write_source

from dataplatform import definitions
from dataplatform.catalog.assertions import assertion_urn
from dataplatform.catalog.naming import mart_table
from dataplatform.catalog.sink import DataHubSink
from dataplatform.defs.mart.assets import daily_mart, model_marts
from dataplatform.defs.mart.checks import daily_mart_checks, model_mart_checks
from dataplatform.mart.publish import MartConnection
from dataplatform.mart.target import MartTarget
from dataplatform.partitions import daily_partitions
from dataplatform.resources.mart_database import MartDatabase
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from dataplatform.settings import SinkKind

MART = [daily_mart, *model_marts, daily_mart_checks, *model_mart_checks]


def resources(
    history: Path, target: MartTarget, datahub: DataHubSink | None = None
) -> dict[str, object]:
    return {
        "io_manager": ParquetIOManager(base_path=str(history)),
        "mart": MartDatabase.for_target(target),
        "datahub": datahub or DataHubSink(kind=SinkKind.NONE),
    }


def run(history: Path, target: MartTarget, day: str) -> dg.ExecuteInProcessResult:
    """Publishes the day, then checks it."""
    return dg.materialize(MART, partition_key=day, resources=resources(history, target))


def checks_only(
    history: Path, target: MartTarget, day: str, datahub: DataHubSink | None = None
) -> dg.ExecuteInProcessResult:
    """Checks the day as the mart holds it now, publishing nothing."""
    job = dg.define_asset_job(
        "check_the_mart",
        selection=dg.AssetSelection.checks_for_assets(daily_mart),
        partitions_def=daily_partitions,
    )
    defs = dg.Definitions(
        assets=[daily_mart, *model_marts],
        asset_checks=[daily_mart_checks, *model_mart_checks],
        jobs=[job],
        resources=resources(history, target, datahub),
    )
    return defs.resolve_job_def("check_the_mart").execute_in_process(
        # A checks-only selection has no partitions of its own: the day goes as the run's tag.
        tags={"dagster/partition": day},
        raise_on_error=False,
    )


def evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dict]:
    """(table, check) -> passed and metadata values, of every check the run evaluated."""
    found = {}
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            data = event.asset_check_evaluation_data
            assert data.severity == dg.AssetCheckSeverity.ERROR
            found[(data.asset_key.path[-1], data.check_name)] = {
                "passed": data.passed,
                **{name: value.value for name, value in data.metadata.items()},
            }
    return found


def failed(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dict]:
    return {check: seen for check, seen in evaluations(result).items() if not seen["passed"]}


def test_published_days_pass_every_check_with_what_was_counted(
    history: Path, target: MartTarget
) -> None:
    orphan = listens(DAY_2).set_column(1, "user_id", pa.array([1, 99], pa.int64()))
    write_source(history, ("cleaned", "listens"), DAY_2, orphan)  # 99: no such user upstream
    predictions = pa.table(
        {"review_id": [f"r-{DAY_2}"], "predicted_label": pa.array([1], pa.int64())}
    )
    write_source(history, ("models", "sentiment_predictions"), DAY_2, predictions)

    assert run(history, target, DAY_1).success
    result = run(history, target, DAY_2)

    assert result.success
    seen = evaluations(result)
    assert {check for check, found in seen.items() if not found["passed"]} == set()
    assert seen[("listens", "rows_reconcile")]["mart_rows_of_the_day"] == 2
    assert seen[("listens", "rows_reconcile")]["source_rows"] == 2
    assert seen[("listens", "references_resolved")]["user_id_orphans_accepted_upstream"] == 1
    assert seen[("listens", "references_resolved")]["user_id_unresolved"] == 0
    assert seen[("users", "versions_reconcile")]["source_versions"] == 2
    assert seen[("users", "versions_reconcile")]["keys_without_one_current_version"] == 0
    assert seen[("user_entities", "rows_reconcile")]["mart_rows"] == 4
    assert seen[("user_golden", "primary_key_unique")]["rows_checked"] == 3
    assert seen[("sentiment_predictions", "references_resolved")]["review_id_unresolved"] == 0
    assert ("recommendations", "rows_reconcile") not in seen  # not scored: skipped with it

    assert run(history, target, DAY_1).success  # an older day again: the snapshot is kept
    again = evaluations(checks_only(history, target, DAY_1))
    assert again[("user_entities", "rows_reconcile")]["kept"] == "a later day's snapshot"
    assert all(found["passed"] for found in again.values())
    assert again[("user_golden", "rows_reconcile")]["mart_rows"] == 3


def corrupt(open_mart: Callable[[], AbstractContextManager[MartConnection]], *sql: str) -> None:
    with open_mart() as mart, mart.transaction():
        for statement in sql:
            mart.execute(statement.replace("{s}", f'"{mart.schema_name}"'))


def test_a_duplicated_fact_fails_its_key_and_its_count(
    history: Path,
    target: MartTarget,
    open_mart: Callable[[], AbstractContextManager[MartConnection]],
) -> None:
    assert run(history, target, DAY_1).success
    corrupt(
        open_mart,
        f"INSERT INTO {{s}}.listens SELECT * FROM {{s}}.listens WHERE listen_id = '{DAY_1}-b'",
    )

    result = checks_only(history, target, DAY_1)

    assert not result.success  # a failed blocking check fails its step, and so the run
    bad = failed(result)
    assert set(bad) == {("listens", "primary_key_unique"), ("listens", "rows_reconcile")}
    unique = bad[("listens", "primary_key_unique")]
    assert unique["duplicated_keys"] == 1
    assert f"({DAY_1}-b): 2 rows" in unique["examples"]
    assert bad[("listens", "rows_reconcile")]["mart_rows_of_the_day"] == 3


def test_lost_dimension_rows_and_golden_records_fail_versions_and_references(
    history: Path,
    target: MartTarget,
    open_mart: Callable[[], AbstractContextManager[MartConnection]],
) -> None:
    assert run(history, target, DAY_1).success
    assert run(history, target, DAY_2).success
    corrupt(
        open_mart,
        "DELETE FROM {s}.users WHERE user_id = 2",
        "DELETE FROM {s}.user_golden WHERE entity_id = 'E3'",
        "UPDATE {s}.tracks SET is_current = true",
    )

    bad = failed(checks_only(history, target, DAY_2))

    assert set(bad) == {
        ("users", "versions_reconcile"),
        ("tracks", "versions_reconcile"),
        ("listens", "references_resolved"),
        ("user_entities", "references_resolved"),
        ("user_golden", "rows_reconcile"),
    }
    users = bad[("users", "versions_reconcile")]
    assert users["versions_missing"] == 1
    assert "missing (2, 2026-03-02 10:00:00+00:00)" in users["examples"]
    tracks = bad[("tracks", "versions_reconcile")]
    assert tracks["keys_without_one_current_version"] == 1
    assert "(11): 2 current versions" in tracks["examples"]
    listens_refs = bad[("listens", "references_resolved")]
    assert listens_refs["user_id_unresolved"] == 1  # user 2 is known upstream: the mart lost it
    assert "user_id 2 not in users" in listens_refs["examples"]
    entities = bad[("user_entities", "references_resolved")]
    assert entities["entity_id_unresolved"] == 1
    assert "entity_id E3 not in user_golden" in entities["examples"]


def test_a_day_missing_from_the_mart_fails_its_reconciliation(
    history: Path,
    target: MartTarget,
    open_mart: Callable[[], AbstractContextManager[MartConnection]],
) -> None:
    assert run(history, target, DAY_1).success
    assert run(history, target, DAY_2).success
    corrupt(open_mart, f"DELETE FROM {{s}}.reviews WHERE day = DATE '{DAY_2}'")

    bad = failed(checks_only(history, target, DAY_2))

    assert set(bad) == {("reviews", "rows_reconcile")}
    assert bad[("reviews", "rows_reconcile")]["keys_missing"] == 1
    assert f"missing (r-{DAY_2})" in bad[("reviews", "rows_reconcile")]["examples"]


def test_the_daily_refresh_runs_every_mart_check_as_blocking() -> None:
    job = definitions.defs().resolve_job_def("daily_refresh")
    graph = definitions.defs().resolve_asset_graph()
    mart_checks = {
        key
        for key in job.asset_layer.asset_graph.asset_check_keys
        if key.asset_key.path[0] == "mart"
    }
    names = {(key.asset_key.path[-1], key.name) for key in mart_checks}
    assert ("listens", "primary_key_unique") in names
    assert ("users", "versions_reconcile") in names
    assert ("user_entities", "references_resolved") in names
    assert ("sentiment_predictions", "rows_reconcile") in names
    assert len(mart_checks) == 8 * 2 + 5  # reconcile and key for each; references for five
    assert all(graph.get_check_spec(key).blocking for key in mart_checks)


def test_check_results_are_assertions_on_the_mart_tables_dataset(
    history: Path,
    target: MartTarget,
    open_mart: Callable[[], AbstractContextManager[MartConnection]],
) -> None:
    assert run(history, target, DAY_1).success
    corrupt(
        open_mart,
        f"INSERT INTO {{s}}.listens SELECT * FROM {{s}}.listens WHERE listen_id = '{DAY_1}-b'",
    )
    lite_path = history.parent / "lite.sqlite"
    datahub = DataHubSink(lite_path=str(lite_path), spool_dir=str(history.parent / "spool"))

    result = checks_only(history, target, DAY_1, datahub)

    table = datahub.naming.table_urn(mart_table(target, "listens"))
    key = dg.AssetKey(["mart", "listens"])
    lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(lite_path)}}, read_only=True)
    try:
        unique = cast(
            dict | None,
            lite.get(assertion_urn(datahub.naming, key, "primary_key_unique", table), None),
        )
        reconciled = cast(
            dict | None, lite.get(assertion_urn(datahub.naming, key, "rows_reconcile", table), None)
        )
        users = cast(
            dict | None,
            lite.get(
                assertion_urn(
                    datahub.naming,
                    dg.AssetKey(["mart", "users"]),
                    "primary_key_unique",
                    datahub.naming.table_urn(mart_table(target, "users")),
                ),
                None,
            ),
        )
    finally:
        lite.close()
    assert not result.success
    assert unique is not None and reconciled is not None and users is not None
    assert unique["assertionInfo"]["entityUrn"] == table
    assert "primary keys (listen_id)" in unique["assertionInfo"]["description"]
    assert unique["assertionRunEvent"]["asserteeUrn"] == table
    assert unique["assertionRunEvent"]["result"]["type"] == "FAILURE"
    assert unique["assertionRunEvent"]["result"]["nativeResults"]["duplicated_keys"] == "1"
    assert unique["assertionRunEvent"]["partitionSpec"]["partition"] == DAY_1
    assert users["assertionRunEvent"]["result"]["type"] == "SUCCESS"
