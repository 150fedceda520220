"""After real runs of the daily job, DataHub Lite holds the asset graph, schemas and profiles."""

from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
from datahub.lite.lite_util import get_datahub_lite

from dataplatform import definitions
from dataplatform.defs.resources import datahub_sink, platform_resources
from dataplatform.demo_api import DemoApiServer
from dataplatform.settings import PlatformSettings
from platform_tests.demo_data import DAY
from platform_tests.events import materialization_metadata

REPO = Path(__file__).resolve().parents[2]


def daily_refresh_job() -> dg.JobDefinition:
    """Top-level, so the multiprocess executor can rebuild the job in each step process."""
    return definitions.defs().resolve_job_def("daily_refresh")


@pytest.fixture
def platform_env(demo_api: DemoApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATAPLATFORM_API_URL", demo_api.url)
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    return tmp_path


def lite_entities(data: Path) -> dict[str, dict]:
    lite = get_datahub_lite(
        {"type": "sqlite", "config": {"file": str(data / "catalog" / "datahub_lite.sqlite")}},
        read_only=True,
    )
    try:
        return {urn: lite.get(urn, aspects=None) for urn in lite.list_ids()}
    finally:
        lite.close()


def dagster_lineage(
    result: dg.ExecuteInProcessResult | dg.JobExecutionResult,
) -> dict[str, set[str]]:
    """Upstream assets of every asset the run wrote, by dataset name (an incremental asset's
    own previous partition is not lineage)."""
    graph = definitions.defs().resolve_asset_graph()
    written = {
        event.step_materialization_data.materialization.asset_key
        for event in result.get_asset_materialization_events()
    }
    return {
        ".".join(key.path): {
            ".".join(parent.path) for parent in graph.get(key).parent_keys if parent != key
        }
        for key in written
    }


def catalog_lineage(entities: dict[str, dict]) -> dict[str, set[str]]:
    naming = datahub_sink(PlatformSettings.from_environment()).naming
    datasets = {urn: e for urn, e in entities.items() if urn.startswith("urn:li:dataset:")}
    every_asset = definitions.defs().resolve_asset_graph().get_all_asset_keys()
    name_of = {naming.dataset_urn(key): ".".join(key.path) for key in every_asset}
    return {
        name_of[urn]: {
            name_of[upstream["dataset"]]
            for upstream in entity.get("upstreamLineage", {}).get("upstreams", [])
        }
        for urn, entity in datasets.items()
    }


def test_daily_run_puts_the_asset_graph_with_schemas_and_profiles_in_datahub_lite(
    platform_env: Path,
) -> None:
    with dg.instance_for_test() as instance:
        result = daily_refresh_job().execute_in_process(
            partition_key=DAY,
            instance=instance,
            resources=platform_resources(PlatformSettings.from_environment()),
        )
    assert result.success

    entities = lite_entities(platform_env)
    assert catalog_lineage(entities) == dagster_lineage(result)

    naming = datahub_sink(PlatformSettings.from_environment()).naming
    listens = entities[naming.dataset_urn(dg.AssetKey(["cleaned", "listens"]))]
    parquet = pq.read_table(platform_env / "cleaned" / "listens" / f"{DAY}.parquet")
    fields = {f["fieldPath"]: f["nullable"] for f in listens["schemaMetadata"]["fields"]}
    assert fields == {field.name: field.nullable for field in parquet.schema}
    assert listens["datasetProfile"]["rowCount"] == parquet.num_rows
    assert listens["datasetProperties"]["customProperties"]["partition"] == DAY
    assert listens["datasetProperties"]["customProperties"]["run_id"] == result.run_id
    fine_grained = listens["upstreamLineage"]["fineGrainedLineages"]
    assert {
        lineage["downstreams"][0].split(",")[-1].rstrip(")") for lineage in fine_grained
    } == set(fields)
    assert listens["ownership"]["owners"][0]["owner"] == "urn:li:corpGroup:data-platform"
    metadata = materialization_metadata(result, "cleaned", "listens")
    assert metadata["datahub/delivery"].value == "sent"


def raw_and_cleaned_keys() -> set[dg.AssetKey]:
    daily = definitions.defs().resolve_job_def("daily_refresh").asset_layer.selected_asset_keys
    return {key for key in daily if key.path[0] in ("raw", "cleaned")}


def step_windows(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    starts, ends = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is not None and event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        if event is not None and event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            ends[event.step_key] = entry.timestamp
    return {step: (starts[step], ends[step]) for step in ends}


def test_parallel_steps_under_the_multiprocess_executor_lose_no_lineage(platform_env: Path) -> None:
    with dg.instance_for_test() as instance:
        result = dg.execute_job(
            dg.reconstructable(daily_refresh_job),
            instance=instance,
            # Raw and cleaned: enough parallel writers, without a process per report and model.
            asset_selection=list(raw_and_cleaned_keys()),
            tags={"dagster/partition": DAY},
            run_config={"execution": {"config": {"multiprocess": {"max_concurrent": 4}}}},
        )
        deliveries = [
            event.step_materialization_data.materialization.metadata["datahub/delivery"].value
            for event in result.get_asset_materialization_events()
        ]
        windows = step_windows(instance, result.run_id)

    assert result.success
    assert any(  # steps really ran at the same time
        a != b and windows[a][0] < windows[b][1] and windows[b][0] < windows[a][1]
        for a in windows
        for b in windows
    )
    assert deliveries == ["sent"] * len(dagster_lineage(result))
    assert catalog_lineage(lite_entities(platform_env)) == dagster_lineage(result)
    assert not list((platform_env / "catalog" / "spool").glob("*.json"))
