"""The production instance config (dagster.yaml) really runs on the local Postgres server."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from platform_tests.services import (
    drop_postgres_database,
    fresh_postgres_database,
    session_database_name,
)

REPO = Path(__file__).resolve().parents[2]


@dg.asset
def heartbeat() -> int:
    return 1


@pytest.fixture
def postgres_url() -> Iterator[str]:
    name = session_database_name("dataplatform_test_instance")
    yield fresh_postgres_database(name)
    drop_postgres_database(name)


def test_dagster_yaml_stores_runs_and_events_in_postgres(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres_url
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", url)
    monkeypatch.setenv("DAGSTER_MAX_CONCURRENT_RUNS", "2")

    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        result = dg.materialize([heartbeat], instance=instance)
        stored = instance.get_run_by_id(result.run_id)
        latest = instance.get_latest_materialization_event(heartbeat.key)

        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert stored is not None and stored.is_success
        assert latest is not None and latest.run_id == result.run_id
