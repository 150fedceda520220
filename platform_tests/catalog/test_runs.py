"""Run-status sensors record successful and failed runs in DataHub without erasing lineage."""

from pathlib import Path

import dagster as dg
import pandas as pd
from datahub.lite.lite_util import get_datahub_lite

from dataplatform.catalog.sink import DataHubSink
from dataplatform.defs.catalog.run_sensors import catalog_failed_runs, catalog_successful_runs
from dataplatform.resources.parquet_io_manager import ParquetIOManager


@dg.asset
def upstream_table() -> pd.DataFrame:
    return pd.DataFrame({"a": [1, 2]})


@dg.asset
def downstream_table(upstream_table: pd.DataFrame) -> pd.DataFrame:
    return upstream_table


@dg.asset(deps=[downstream_table])
def exploding() -> pd.DataFrame:
    raise RuntimeError("boom")


def sink(tmp_path: Path) -> DataHubSink:
    return DataHubSink(lite_path=str(tmp_path / "lite.sqlite"), spool_dir=str(tmp_path / "spool"))


def run_event(result: dg.ExecuteInProcessResult, kind: dg.DagsterEventType) -> dg.DagsterEvent:
    [event] = [e for e in result.all_events if e.event_type == kind]
    return event


def lite_entity(tmp_path: Path, urn: str) -> dict:
    lite = get_datahub_lite(
        {"type": "sqlite", "config": {"file": str(tmp_path / "lite.sqlite")}}, read_only=True
    )
    try:
        return lite.get(urn, aspects=None)
    finally:
        lite.close()


def instance_urn(lite_path: Path) -> list[str]:
    lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(lite_path)}}, read_only=True)
    try:
        return [urn for urn in lite.list_ids() if urn.startswith("urn:li:dataProcessInstance:")]
    finally:
        lite.close()


def test_successful_and_failed_runs_are_recorded_and_lineage_survives(tmp_path: Path) -> None:
    datahub = sink(tmp_path)
    resources = {"io_manager": ParquetIOManager(base_path=str(tmp_path), datahub=datahub)}
    with dg.instance_for_test() as instance:
        good = dg.materialize(
            [upstream_table, downstream_table], instance=instance, resources=resources
        )
        bad = dg.materialize(
            [upstream_table, downstream_table, exploding],
            instance=instance,
            resources=resources,
            raise_on_error=False,
        )
        for result, sensor, kind in (
            (good, catalog_successful_runs, dg.DagsterEventType.RUN_SUCCESS),
            (bad, catalog_failed_runs, dg.DagsterEventType.RUN_FAILURE),
        ):
            context = dg.build_run_status_sensor_context(
                sensor_name=sensor.name,
                dagster_event=run_event(result, kind),
                dagster_instance=instance,
                dagster_run=instance.get_run_by_id(result.run_id),
                resources={"datahub": datahub},
            )
            sensor(
                context.for_run_failure() if kind == dg.DagsterEventType.RUN_FAILURE else context
            )

    runs = {}
    for urn in instance_urn(tmp_path / "lite.sqlite"):
        entity = lite_entity(tmp_path, urn)
        run_id = entity["dataProcessInstanceProperties"]["name"]
        runs[run_id] = entity["dataProcessInstanceRunEvent"]["result"]["type"]
    assert runs == {good.run_id: "SUCCESS", bad.run_id: "FAILURE"}
    downstream = lite_entity(tmp_path, datahub.naming.dataset_urn(downstream_table.key))
    assert downstream["upstreamLineage"]["upstreams"][0]["dataset"] == datahub.naming.dataset_urn(
        upstream_table.key
    )
