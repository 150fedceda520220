"""Asset-check results become DataHub assertions with run events, readable from DataHub Lite."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from datahub.lite.lite_util import get_datahub_lite

from dataplatform.catalog.assertions import assertion_mcps, assertion_urn, check_runs
from dataplatform.catalog.sink import DataHubSink, SinkKind

LISTENS = dg.AssetKey(["cleaned", "listens"])


def lite_entity(path: Path, urn: str) -> dict:
    lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(path)}}, read_only=True)
    try:
        return lite.get(urn, aspects=None)
    finally:
        lite.close()


def emit(sink: DataHubSink, results: list[dg.AssetCheckResult], run_id: str) -> None:
    runs = check_runs(
        results,
        LISTENS,
        run_id,
        datetime(2026, 3, 5, tzinfo=UTC),
        "2026-03-04",
        {"keys_unique": "No two rows share a key."},
    )
    sink.emit([mcp for run in runs for mcp in assertion_mcps(run, sink.naming)])


def test_check_results_are_assertions_with_their_latest_run(tmp_path: Path) -> None:
    path = tmp_path / "lite.sqlite"
    sink = DataHubSink(kind=SinkKind.LITE, lite_path=str(path), spool_dir=str(tmp_path / "spool"))
    unique = dg.AssetCheckResult(check_name="keys_unique", passed=True, metadata={"rows": 3})
    volume = dg.AssetCheckResult(
        check_name="row_volume_stable", passed=False, severity=dg.AssetCheckSeverity.WARN
    )

    emit(sink, [unique, volume], "run-1")

    keys_unique = lite_entity(path, assertion_urn(sink.naming, LISTENS, "keys_unique"))
    info = keys_unique["assertionInfo"]
    assert info["type"] == "CUSTOM"
    assert info["description"] == "No two rows share a key."
    assert info["customAssertion"]["entity"] == sink.naming.dataset_urn(LISTENS)
    event = keys_unique["assertionRunEvent"]
    assert (event["runId"], event["result"]["type"]) == ("run-1", "SUCCESS")
    assert event["result"]["nativeResults"] == {"rows": "3"}
    assert event["partitionSpec"]["partition"] == "2026-03-04"
    volume_entity = lite_entity(path, assertion_urn(sink.naming, LISTENS, "row_volume_stable"))
    assert volume_entity["assertionRunEvent"]["result"]["type"] == "FAILURE"
    assert volume_entity["assertionInfo"]["customProperties"]["severity"] == "WARN"


def test_each_check_is_one_assertion_per_dataset() -> None:
    naming = DataHubSink(kind=SinkKind.NONE).naming
    users = dg.AssetKey(["cleaned", "users"])

    assert assertion_urn(naming, LISTENS, "keys_unique") == assertion_urn(
        naming, LISTENS, "keys_unique"
    )
    assert assertion_urn(naming, LISTENS, "keys_unique") != assertion_urn(
        naming, users, "keys_unique"
    )
