"""The code location loads, its graph is what we expect, and a full day runs through it."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from dataplatform import definitions
from dataplatform.cleaning.tables import CLEANED_TABLES
from dataplatform.defs.resources import platform_resources
from dataplatform.demo_api import DemoApiServer
from dataplatform.settings import PlatformSettings
from platform_tests.demo_data import DAY
from platform_tests.events import check_results, materialization_metadata

REPO = Path(__file__).resolve().parents[1]
TABLES = tuple(spec.name for spec in CLEANED_TABLES)


def test_workspace_yaml_loads_the_code_location(tmp_path: Path) -> None:
    # Without DAGSTER_HOME, dagster would pick up the production dagster.yaml from the cwd.
    validate = subprocess.run(
        [
            Path(sys.executable).parent / "dagster",
            "definitions",
            "validate",
            "-w",
            "workspace.yaml",
        ],
        cwd=REPO,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert validate.returncode == 0, validate.stderr
    assert (
        "Validation successful for code location dataplatform" in validate.stdout + validate.stderr
    )


def test_asset_graph_snapshot() -> None:
    graph = definitions.defs().resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}

    # Spelt out rather than derived from the registries: a new asset shows up here in review.
    snapshot_tables = ("tracks", "users", "listens", "reviews", "playlists")
    assert groups == {
        **{
            f"raw/{endpoint}": "raw"
            for endpoint in ("tracks", "users", "listen_history", "reviews", "playlists")
        },
        **{f"cleaned/{table}": "cleaned" for table in snapshot_tables},
        **{f"cleaned/{table}_rejects": "cleaned" for table in snapshot_tables},
        "cleaned/landed_reviews": "cleaned",
        "cleaned/landed_reviews_rejects": "cleaned",
        **{f"landed/{dataset}": "landing" for dataset in ("reviews", "exports")},
        **{f"landed/{dataset}_rejects": "landing" for dataset in ("reviews", "exports")},
        "landed/documents_knowledge_base": "landing",
        **{f"quality/cleaned_{table}_report": "quality" for table in snapshot_tables},
        **{f"quality/landed_{dataset}_report": "quality" for dataset in ("reviews", "exports")},
        **{f"quality/{table}_drift": "quality" for table in ("reviews", "listens")},
        "quality/pipeline_health": "quality",
        **{
            f"entities/user_{part}": "entities"
            for part in ("matches", "entities", "golden", "uncertain_pairs", "labels")
        },
        **{
            f"models/{model}": "models"
            for model in (
                "review_embeddings",
                "sentiment_model",
                "sentiment_predictions",
                "recommender",
                "recommendations",
            )
        },
        **{
            f"mart/{table}": "mart"
            for table in (
                "users",
                "tracks",
                "listens",
                "reviews",
                "user_entities",
                "user_golden",
                "recommendations",
                "sentiment_predictions",
            )
        },
    }
    assert {job.name for job in definitions.defs().resolve_all_job_defs()} >= {
        "daily_refresh",
        "raw_job",
        "cleaned_job",
        "replay_lineage",
        "land_reviews_job",
        "land_exports_job",
        "documents_job",
        "quality_job",
        "pipeline_health_job",
        "models_job",
        "entities_job",
        "mart_job",
        "train_models_job",
        "mlflow_to_datahub",
    }
    assert {sensor.name for sensor in definitions.defs().sensors} == {
        "catalog_successful_runs",
        "catalog_failed_runs",
        "landing_reviews_sensor",
        "landing_exports_sensor",
        "landing_documents_sensor",
        "alert_on_run_failure",
        "alert_on_failed_blocking_checks",
        "retrain_on_new_reviews",
        "retrain_on_degradation",
    }
    assert (
        definitions.defs().resolve_schedule_def("daily_refresh_schedule").job_name
        == "daily_refresh"
    )


def test_the_scoring_job_publishes_its_predictions_into_the_mart() -> None:
    job = definitions.defs().resolve_job_def("models_job")

    assert {key.to_user_string() for key in job.asset_layer.selected_asset_keys} == {
        "models/recommendations",
        "models/sentiment_predictions",
        "mart/recommendations",
        "mart/sentiment_predictions",
    }


def test_every_asset_job_schedule_and_sensor_says_what_it_is() -> None:
    defs = definitions.defs()
    described = {
        **{
            f"asset {spec.key.to_user_string()}": spec.description
            for spec in defs.resolve_all_asset_specs()
        },
        **{f"job {job.name}": job.description for job in defs.jobs or []},
        **{f"schedule {schedule.name}": schedule.description for schedule in defs.schedules or []},
        **{f"sensor {sensor.name}": sensor.description for sensor in defs.sensors or []},
    }

    assert {name.split()[0] for name in described} == {"asset", "job", "schedule", "sensor"}
    assert [name for name, text in described.items() if not (text or "").strip()] == []


def test_no_two_assets_of_a_group_share_a_label() -> None:
    # The graph labels a node by the last part of its key.
    labels: dict[tuple[str | None, str], list[str]] = {}
    for spec in definitions.defs().resolve_all_asset_specs():
        labels.setdefault((spec.group_name, spec.key.path[-1]), []).append(
            spec.key.to_user_string()
        )

    assert [keys for keys in labels.values() if len(keys) > 1] == []


def test_every_asset_links_to_its_code_and_versions_it() -> None:
    package = Path(definitions.__file__).parent
    for spec in definitions.defs().resolve_all_asset_specs():
        [reference] = spec.metadata["dagster/code_references"].code_references
        source = Path(reference.file_path)
        assert source.is_relative_to(package), spec.key
        line = source.read_text().splitlines()[reference.line_number - 1].strip()
        assert line.startswith(("@", "def ")), spec.key  # the asset function, or its decorator
        assert spec.code_version, spec.key


def test_a_code_version_changes_with_the_code() -> None:
    def clean(rows: int) -> int:
        return rows

    def cleaner(rows: int) -> int:
        return rows - 1

    assert definitions.code_version(clean) == definitions.code_version(clean)
    assert definitions.code_version(clean) != definitions.code_version(cleaner)


@pytest.fixture
def local_resources(
    demo_api: DemoApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict:
    monkeypatch.setenv("DATAPLATFORM_API_URL", demo_api.url)
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(tmp_path))
    return platform_resources(PlatformSettings.from_environment())


def unrounded_floats(result: dg.ExecuteInProcessResult) -> dict[str, float]:
    """Float metadata of the run's materialisations shown with more than 6 decimals."""
    return {
        f"{event.asset_key.to_user_string()}:{name}": value.value
        for event in result.get_asset_materialization_events()
        for name, value in event.step_materialization_data.materialization.metadata.items()
        if isinstance(value.value, float) and round(value.value, 6) != value.value
    }


def run_daily_refresh(
    instance: dg.DagsterInstance, day: str, resources: dict
) -> dg.ExecuteInProcessResult:
    job = definitions.defs().resolve_job_def("daily_refresh")
    return job.execute_in_process(partition_key=day, instance=instance, resources=resources)


def test_daily_refresh_materialises_a_full_partition(local_resources: dict, tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        result = run_daily_refresh(instance, DAY, local_resources)
        next_day = run_daily_refresh(instance, "2026-03-05", local_resources)

    assert result.success and next_day.success
    for table in TABLES:
        raw_rows = pq.read_table(tmp_path / "cleaned" / table / f"{DAY}.parquet").num_rows
        metadata = materialization_metadata(result, "cleaned", table)
        assert raw_rows == metadata["dagster/row_count"].value > 0
        assert metadata["rejected_rows"].value > 0  # the demo data is dirty on purpose
        accounted = (
            metadata["dagster/row_count"].value
            + metadata["rejected_rows"].value
            + metadata["exact_duplicates_dropped"].value
            + metadata["superseded_versions"].value
        )
        assert accounted == metadata["raw_rows"].value
    checks = check_results(result, "cleaned")
    assert {check: passed for check, passed in checks.items() if not passed} == {}
    assert checks[("listens", "references_known")] and checks[("reviews", "references_known")]
    assert all(
        checks[(spec.name, "references_known")] for spec in CLEANED_TABLES if spec.references
    )
    assert all(check_results(next_day, "cleaned").values())
    assert unrounded_floats(result) == {}
    blocking_quality = check_results(result, "quality", dg.AssetCheckSeverity.ERROR)
    assert blocking_quality and all(blocking_quality.values())
