"""The compose topology started natively: Postgres instance, code servers, webserver, daemon,
Celery workers; configured from the repo's dagster.yaml and docker-compose.yml."""

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from dagster import DagsterInstance
from dagster_graphql import DagsterGraphQLClient

from platform_tests.deployment.processes import Processes, http_ok, port_open, wait_until

REPO = Path(__file__).resolve().parents[2]
PRODUCT_LOCATION = "dataplatform"
TEST_LOCATION = "deployment_tests"
# Their training runs would compete with the runs under test for the cores and the training slot;
# platform_tests/models covers them.
RETRAINING_SENSORS = ("retrain_on_new_reviews", "retrain_on_degradation")
# Short enough for a test to see a killed run detected; the rest of dagster.yaml is as shipped.
TEST_RUN_MONITORING = {"poll_interval_seconds": 3, "cancel_timeout_seconds": 20}


@dataclass
class Deployment:
    client: DagsterGraphQLClient
    processes: Processes
    home: Path
    data_dir: Path
    landing_dir: Path
    schedule_at: datetime
    daemon_started_at: datetime
    mlflow_url: str
    mlflow_store: str
    rabbitmq_url: str | None
    env: dict[str, str]

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.client._execute(query, variables or {})


SENSOR_QUERY = """
query Sensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { id }
    ... on PythonError { message }
  }
}
"""

WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
    ... on PythonError { message }
  }
}
"""

STOP_SENSOR_MUTATION = """
mutation StopSensor($id: String) {
  stopSensor(id: $id) {
    __typename
    ... on PythonError { message }
  }
}
"""


def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def write_instance_config(home: Path) -> None:
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    config["run_monitoring"].update(TEST_RUN_MONITORING)
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))


def create_storage(home: Path) -> None:
    """Creates the instance's tables once: processes started together on an empty database
    would race to create them (`DuplicateTable`). DAGSTER_POSTGRES_URL must be set."""
    with DagsterInstance.from_config(str(home)):
        pass


def write_workspace(path: Path, product_port: int, tests_port: int) -> None:
    """The compose file's own workspace (the gRPC code server), on loopback, plus the test jobs."""
    workspace = yaml.safe_load(compose()["configs"]["workspace"]["content"])
    [entry] = workspace["load_from"]
    entry["grpc_server"].update(host="127.0.0.1", port=product_port)
    workspace["load_from"].append(
        {"grpc_server": {"host": "127.0.0.1", "port": tests_port, "location_name": TEST_LOCATION}}
    )
    path.write_text(yaml.safe_dump(workspace))


def write_celery_config(path: Path, broker: str, backend: str) -> None:
    path.write_text(
        yaml.safe_dump({"execution": {"config": {"broker": broker, "backend": backend}}})
    )


def first_whole_minute_after(seconds: float) -> datetime:
    later = datetime.now(UTC) + timedelta(seconds=seconds)
    return later.replace(second=0, microsecond=0) + timedelta(minutes=1)


def code_server(port: int, module: str) -> list[str]:
    return [
        cli("dagster"),
        "code-server",
        "start",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-m",
        module,
        "-d",
        str(REPO),
    ]


def cli(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def celery_worker(name: str, config: Path) -> list[str]:
    return [
        cli("dagster-celery"),
        "worker",
        "start",
        "-A",
        "dagster_celery.app",
        "-y",
        str(config),
        "-n",
        name,
        "--",
        "--concurrency=1",
        # Steps run in the worker's own process, so each step is seen on the worker that
        # ran it.
        "--pool=solo",
    ]


def mlflow_server(port: int, backend_store: str, artifacts: Path) -> list[str]:
    """The compose file's MLflow command, on loopback."""
    return [
        cli("mlflow"),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        backend_store,
        "--serve-artifacts",
        "--artifacts-destination",
        str(artifacts),
        "--workers",
        "1",
    ]


def start_code_servers(processes: Processes, product_port: int, tests_port: int) -> None:
    processes.start("code_server", code_server(product_port, "dataplatform.definitions"))
    processes.start(
        "tests_code_server", code_server(tests_port, "platform_tests.deployment.code_location")
    )


def start_frontends(processes: Processes, workspace: Path, web_port: int) -> None:
    processes.start(
        "webserver",
        [cli("dagster-webserver"), "-h", "127.0.0.1", "-p", str(web_port), "-w", str(workspace)],
    )
    processes.start("daemon", [cli("dagster-daemon"), "run", "-w", str(workspace)])


def wait_for_ports(processes: Processes, ports: list[int], timeout: float) -> None:
    def all_open() -> bool:
        processes.assert_alive()
        return all(port_open(port) for port in ports)

    wait_until(all_open, timeout, f"ports {ports}")


def wait_for_webserver(processes: Processes, port: int, timeout: float) -> None:
    def ready() -> bool:
        processes.assert_alive()
        return http_ok(f"http://127.0.0.1:{port}/server_info")

    wait_until(ready, timeout, "the webserver")


def wait_for_locations(
    client: DagsterGraphQLClient, processes: Processes, names: list[str], timeout: float
) -> None:
    """Waits until the webserver has loaded every code location: it answers /server_info while
    they still load, and a sensor asked for meanwhile is not found."""

    def loaded() -> bool:
        processes.assert_alive()
        workspace = client._execute(WORKSPACE_QUERY)["workspaceOrError"]
        assert workspace["__typename"] == "Workspace", workspace
        entries = {entry["name"]: entry for entry in workspace["locationEntries"]}
        for name in names:
            location = entries[name]["locationOrLoadError"] if name in entries else None
            if location and location["__typename"] == "PythonError":
                raise AssertionError(f"code location {name} failed to load: {location['message']}")
        return all(name in entries and entries[name]["loadStatus"] == "LOADED" for name in names)

    wait_until(loaded, timeout, f"the webserver to load code locations {names}")


def environment(**overrides: str) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", **overrides}


def stop_sensors(client: DagsterGraphQLClient, location: str, names: tuple[str, ...]) -> None:
    """Stops sensors that run by default, through the webserver as a user would."""
    for name in names:
        selector = {
            "repositoryLocationName": location,
            "repositoryName": "__repository__",
            "sensorName": name,
        }
        sensor = client._execute(SENSOR_QUERY, {"selector": selector})["sensorOrError"]
        assert sensor["__typename"] == "Sensor", sensor
        stopped = client._execute(STOP_SENSOR_MUTATION, {"id": sensor["id"]})["stopSensor"]
        assert stopped["__typename"] == "StopSensorMutationResult", stopped
