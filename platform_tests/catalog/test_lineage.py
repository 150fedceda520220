"""After real runs of the daily job, DataHub Lite holds the asset graph, schemas and profiles."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest
from datahub.emitter.mce_builder import make_schema_field_urn
from datahub.lite.lite_util import get_datahub_lite

from dataplatform import definitions
from dataplatform.catalog.naming import mart_table
from dataplatform.column_descriptions import column_description
from dataplatform.defs.resources import datahub_sink, platform_resources
from dataplatform.demo_api import DemoApiServer
from dataplatform.settings import PlatformSettings
from platform_tests.demo_data import DAY
from platform_tests.events import check_results, materialization_metadata

REPO = Path(__file__).resolve().parents[2]


def daily_refresh_job() -> dg.JobDefinition:
    """Top-level, so the multiprocess executor can rebuild the job in each step process."""
    return definitions.defs().resolve_job_def("daily_refresh")


def set_platform_env(monkeypatch: pytest.MonkeyPatch, api_url: str, data: Path) -> None:
    monkeypatch.setenv("DATAPLATFORM_API_URL", api_url)
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(data))
    monkeypatch.setenv("PYTHONPATH", str(REPO))


@pytest.fixture
def platform_env(demo_api: DemoApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    set_platform_env(monkeypatch, demo_api.url, tmp_path)
    return tmp_path


@dataclass(frozen=True)
class DailyRun:
    data: Path
    result: dg.ExecuteInProcessResult


@pytest.fixture(scope="module")
def daily_run(
    demo_api: DemoApiServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DailyRun]:
    """One in-process daily refresh (the embedded default: DataHub Lite, the DuckDB mart),
    read by the tests below; its settings stay in the environment while they run."""
    data = tmp_path_factory.mktemp("daily_run")
    with pytest.MonkeyPatch.context() as monkeypatch, dg.instance_for_test() as instance:
        set_platform_env(monkeypatch, demo_api.url, data)
        result = daily_refresh_job().execute_in_process(
            partition_key=DAY,
            instance=instance,
            resources=platform_resources(PlatformSettings.from_environment()),
        )
        yield DailyRun(data, result)


# The asset groups whose tables people and apps read.
USER_FACING = ("cleaned", "entities", "models")


def lite_entities(data: Path) -> dict[str, dict]:
    lite = get_datahub_lite(
        {"type": "sqlite", "config": {"file": str(data / "catalog" / "datahub_lite.sqlite")}},
        read_only=True,
    )
    try:
        return {urn: cast(dict, lite.get(urn, aspects=None)) for urn in lite.list_ids()}
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


def dataset_urns() -> dict[dg.AssetKey, str]:
    """Each asset's dataset in the catalog: a Parquet asset's on the orchestrator's platform,
    a mart table's on the mart's database platform."""
    settings = PlatformSettings.from_environment()
    naming = datahub_sink(settings).naming
    graph = definitions.defs().resolve_asset_graph()
    return {
        key: naming.table_urn(mart_table(settings.mart, key.path[-1]))
        if graph.get(key).group_name == "mart"
        else naming.dataset_urn(key)
        for key in graph.get_all_asset_keys()
    }


def catalog_lineage(entities: dict[str, dict]) -> dict[str, set[str]]:
    datasets = {urn: e for urn, e in entities.items() if urn.startswith("urn:li:dataset:")}
    name_of = {urn: ".".join(key.path) for key, urn in dataset_urns().items()}
    return {
        name_of[urn]: {
            name_of[upstream["dataset"]]
            for upstream in entity.get("upstreamLineage", {}).get("upstreams", [])
        }
        for urn, entity in datasets.items()
    }


def test_daily_run_puts_the_asset_graph_with_schemas_and_profiles_in_datahub_lite(
    daily_run: DailyRun,
) -> None:
    result = daily_run.result
    assert result.success

    entities = lite_entities(daily_run.data)
    assert catalog_lineage(entities) == dagster_lineage(result)

    naming = datahub_sink(PlatformSettings.from_environment()).naming
    listens = entities[naming.dataset_urn(dg.AssetKey(["cleaned", "listens"]))]
    parquet = pq.read_table(daily_run.data / "cleaned" / "listens" / f"{DAY}.parquet")
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


def mart_columns(data: Path, table: str) -> dict[str, tuple[str, bool]]:
    with duckdb.connect(str(data / "mart.duckdb"), read_only=True) as mart:
        rows = mart.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
    return {name: (kind, nullable == "YES") for name, kind, nullable in rows}


def test_mart_tables_are_duckdb_datasets_with_their_schema_and_lineage_to_the_parquet(
    daily_run: DailyRun,
) -> None:
    entities = lite_entities(daily_run.data)
    urns = dataset_urns()
    listens_urn = urns[dg.AssetKey(["mart", "listens"])]
    assert listens_urn.startswith("urn:li:dataset:(urn:li:dataPlatform:duckdb,mart.main.listens,")
    listens = entities[listens_urn]

    schema = listens["schemaMetadata"]
    assert schema["platform"] == "urn:li:dataPlatform:duckdb"
    assert {
        field["fieldPath"]: (field["nativeDataType"], field["nullable"])
        for field in schema["fields"]
    } == mart_columns(daily_run.data, "listens")

    parquet = urns[dg.AssetKey(["cleaned", "listens"])]
    assert [u["dataset"] for u in listens["upstreamLineage"]["upstreams"]] == [parquet]
    column_lineage = {
        lineage["downstreams"][0]: lineage["upstreams"]
        for lineage in listens["upstreamLineage"]["fineGrainedLineages"]
    }
    copied = set(pq.read_schema(daily_run.data / "cleaned" / "listens" / f"{DAY}.parquet").names)
    assert column_lineage == {
        make_schema_field_urn(listens_urn, column): [make_schema_field_urn(parquet, column)]
        for column in copied
    }  # `day` is the partition's, not a copied column

    users_urn = urns[dg.AssetKey(["mart", "users"])]
    users_lineage = {
        lineage["downstreams"][0]: lineage["upstreams"]
        for lineage in entities[users_urn]["upstreamLineage"]["fineGrainedLineages"]
    }
    cleaned_users = urns[dg.AssetKey(["cleaned", "users"])]
    assert users_lineage[make_schema_field_urn(users_urn, "valid_from")] == [
        make_schema_field_urn(cleaned_users, "updated_at")
    ]
    assert make_schema_field_urn(users_urn, "is_current") not in users_lineage

    job = entities[dataset_job_urn(dg.AssetKey(["mart", "listens"]))]
    assert job["dataJobInputOutput"]["inputDatasets"] == [parquet]
    assert job["dataJobInputOutput"]["outputDatasets"] == [listens_urn]
    metadata = materialization_metadata(daily_run.result, "mart", "listens")
    assert metadata["datahub/urn"].value == listens_urn
    assert metadata["datahub/delivery"].value == "sent"


def test_the_mart_checks_pass_on_a_real_day(daily_run: DailyRun) -> None:
    checks = check_results(daily_run.result, "mart")
    # Six tables published (no model trained yet): reconcile and key each, references for three.
    assert len(checks) == 6 * 2 + 3
    assert {check for check, passed in checks.items() if not passed} == set()


def dataset_job_urn(key: dg.AssetKey) -> str:
    return datahub_sink(PlatformSettings.from_environment()).naming.job_urn(key)


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


def test_every_column_of_what_users_read_is_described_in_dagster_and_datahub(
    daily_run: DailyRun,
) -> None:
    """Cleaned tables, entities and model outputs: their Dagster column schema and their
    DataHub schema fields carry the one declared description of each column."""
    entities = lite_entities(daily_run.data)
    urns = dataset_urns()
    undescribed = []
    for event in daily_run.result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        key = materialization.asset_key
        schema = materialization.metadata.get("dagster/column_schema")
        if key.path[0] not in USER_FACING or not isinstance(schema, dg.TableSchemaMetadataValue):
            continue
        table = key.path[-1]
        fields = {
            f["fieldPath"]: f.get("description")
            for f in entities[urns[key]]["schemaMetadata"]["fields"]
        }
        for column in schema.value.columns:
            expected = column_description(table, column.name)
            undescribed += [f"{key.to_user_string()}.{column.name}"] * (not expected)
            assert column.description == (expected or None)
            assert fields[column.name] == (expected or None)
    assert undescribed == [], " ".join(undescribed)
