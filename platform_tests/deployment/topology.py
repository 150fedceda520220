"""The compose topology started natively: Postgres instance, code servers, webserver, daemon,
Celery workers; configured from the repo's dagster.yaml and docker-compose.yml."""

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from dagster_graphql import DagsterGraphQLClient

from platform_tests.deployment.processes import Processes, http_ok, port_open, wait_until

REPO = Path(__file__).resolve().parents[2]
PRODUCT_LOCATION = "dataplatform"
TEST_LOCATION = "deployment_tests"
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
    mlflow_url: str
    rabbitmq_url: str | None
    env: dict[str, str]

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.client._execute(query, variables or {})


def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def write_instance_config(home: Path) -> None:
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    config["run_monitoring"].update(TEST_RUN_MONITORING)
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))


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


def next_minute_in(minutes: int) -> datetime:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).replace(second=0, microsecond=0)


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


def environment(**overrides: str) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", **overrides}
