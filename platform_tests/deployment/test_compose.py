"""docker-compose.yml agrees with dagster.yaml, workspace.yaml, the Dockerfile and the package.

There is no Docker engine here, so these checks are what keeps the compose file from rotting.
"""

import importlib.util
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from dataplatform.settings import Calendar, ExecutorKind, PlatformSettings

REPO = Path(__file__).resolve().parents[2]
DAGSTER_COMMANDS = {"dagster", "dagster-webserver", "dagster-daemon", "dagster-celery"}
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET")
# `${NAME:-default}` or `${NAME-default}` where NAME names a secret, anywhere in a compose file.
DEFAULTED_SECRET = re.compile(rf"\$\{{(\w*(?:{'|'.join(SECRET_WORDS)})\w*):?-")


def interpolate(text: str) -> str:
    """Compose's variable syntax, resolved to the defaults (required ones to a placeholder)."""
    text = re.sub(r"\$\{(\w+):-([^}]*)\}", r"\2", text)
    text = re.sub(r"\$\{(\w+):\?[^}]*\}", r"<\1>", text)
    return text.replace("$$", "$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(interpolate((REPO / "docker-compose.yml").read_text()))


def command(service: dict[str, Any]) -> list[str]:
    return shlex.split(service["command"])


def option(argv: list[str], *names: str) -> str:
    [value] = [argv[i + 1] for i, arg in enumerate(argv) if arg in names]
    return value


def env_names(node: Any) -> set[str]:
    """Every `env: NAME` reference in a Dagster instance config."""
    if isinstance(node, dict):
        found = {node["env"]} if isinstance(node.get("env"), str) else set()
        return found.union(*(env_names(value) for value in node.values()))
    return set()


def dagster_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if "command" in service and command(service)[0] in DAGSTER_COMMANDS
    }


def mount_targets(service: dict[str, Any]) -> set[str]:
    return {volume.split(":")[1] for volume in service.get("volumes", [])}


def config_targets(service: dict[str, Any]) -> dict[str, str]:
    return {config["target"]: config["source"] for config in service.get("configs", [])}


def test_every_dagster_process_gets_what_dagster_yaml_reads(compose: dict[str, Any]) -> None:
    needed = env_names(yaml.safe_load((REPO / "dagster.yaml").read_text()))

    assert needed >= {"DAGSTER_POSTGRES_URL", "DAGSTER_MAX_CONCURRENT_RUNS"}
    services = dagster_services(compose)
    assert set(services) == {
        "user_code",
        "webserver",
        "webserver_readonly",
        "daemon",
        "celery_worker",
    }
    for name, service in services.items():
        assert needed <= set(service["environment"]), name
        assert service["environment"]["DAGSTER_POSTGRES_URL"].endswith("@postgres:5432/dagster")


def test_the_webserver_and_daemon_load_the_code_server_compose_runs(
    compose: dict[str, Any],
) -> None:
    [local] = yaml.safe_load((REPO / "workspace.yaml").read_text())["load_from"]
    [remote] = yaml.safe_load(compose["configs"]["workspace"]["content"])["load_from"]
    user_code = command(compose["services"]["user_code"])

    assert option(user_code, "-m") == local["python_module"]["module_name"]
    assert importlib.util.find_spec(option(user_code, "-m")) is not None
    assert remote["grpc_server"]["location_name"] == local["python_module"]["location_name"]
    assert remote["grpc_server"]["host"] in compose["services"]
    assert str(remote["grpc_server"]["port"]) == option(user_code, "-p")
    health = compose["services"]["user_code"]["healthcheck"]["test"]
    assert option(health, "-p") == option(user_code, "-p")
    for name in ("webserver", "daemon"):
        service = compose["services"][name]
        assert config_targets(service)[option(command(service), "-w")] == "workspace"


def test_the_environment_names_are_the_ones_the_package_reads(compose: dict[str, Any]) -> None:
    # Every setting is declared once, in dataplatform/settings.py (README, Configuration).
    read = {
        field.alias
        for settings in (PlatformSettings, Calendar)
        for field in settings.model_fields.values()
    }
    environment = compose["services"]["user_code"]["environment"]

    platform_names = {
        n for n in environment if n.startswith("DATAPLATFORM_") or n == "DAGSTER_UI_URL"
    }
    assert platform_names <= read, platform_names - read
    assert environment["DATAPLATFORM_EXECUTOR"] in set(ExecutorKind)


def test_runs_and_workers_mount_the_folders_the_environment_points_at(
    compose: dict[str, Any],
) -> None:
    for name in ("user_code", "celery_worker"):
        service = compose["services"][name]
        folders = {
            service["environment"]["DATAPLATFORM_DATA_DIR"],
            service["environment"]["DATAPLATFORM_LANDING_DIR"],
        }
        assert folders <= mount_targets(service), name
    assert set(compose["volumes"]) >= {"data", "landing", "artifacts", "postgres"}


def test_celery_workers_listen_on_the_broker_the_code_location_sends_to(
    compose: dict[str, Any],
) -> None:
    worker = compose["services"]["celery_worker"]
    argv = command(worker)
    config_name = config_targets(worker)[option(argv, "-y")]
    execution = yaml.safe_load(compose["configs"][config_name]["content"])["execution"]["config"]
    environment = compose["services"]["user_code"]["environment"]

    assert execution["broker"] == environment["DATAPLATFORM_CELERY_BROKER"]
    assert execution["backend"] == environment["DATAPLATFORM_CELERY_BACKEND"]
    assert execution["broker"].startswith("redis://redis:")
    assert importlib.util.find_spec(option(argv, "-A")) is not None
    assert worker["profiles"] == compose["services"]["redis"]["profiles"] == ["celery"]


def test_mlflow_keeps_runs_in_postgres_and_serves_artifacts_from_a_volume(
    compose: dict[str, Any],
) -> None:
    mlflow = compose["services"]["mlflow"]
    argv = command(mlflow)
    database = option(argv, "--backend-store-uri").rsplit("/", 1)[1]

    assert option(argv, "--backend-store-uri").startswith("postgresql+psycopg2://")
    assert "@postgres:5432/" in option(argv, "--backend-store-uri")
    assert f"CREATE DATABASE {database};" in compose["configs"]["mlflow_database"]["content"]
    assert "--serve-artifacts" in argv
    assert option(argv, "--artifacts-destination") in mount_targets(mlflow)
    assert compose["services"]["user_code"]["environment"]["MLFLOW_TRACKING_URI"] == (
        f"http://mlflow:{option(argv, '--port')}"
    )


def test_every_long_running_service_has_a_health_check(compose: dict[str, Any]) -> None:
    missing = [
        name for name, service in compose["services"].items() if "healthcheck" not in service
    ]

    assert missing == []


def test_no_secret_is_baked_into_the_image_or_the_compose_file() -> None:
    raw = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    dockerfile = (REPO / "Dockerfile").read_text()
    environments = [raw["x-dagster-env"]] + [
        s.get("environment", {}) for s in raw["services"].values()
    ]

    for environment in environments:
        for name, value in environment.items():
            if any(word in name for word in SECRET_WORDS):
                # Required (`:?`), or passed through from the environment when set (no value).
                assert value is None or re.fullmatch(r"\$\{\w+:\?[^}]*\}", str(value)), name
    assert not re.search(rf"^(ENV|ARG)\s+\S*({'|'.join(SECRET_WORDS)})", dockerfile, re.M)
    assert ".env" in (REPO / ".dockerignore").read_text().split()


def test_no_secret_has_a_default_anywhere_in_the_compose_files() -> None:
    # Also inside commands and URLs, which the per-variable check above does not read.
    for path in (REPO / "docker-compose.yml", REPO / "deploy" / "compose.tls.yml"):
        assert DEFAULTED_SECRET.findall(path.read_text()) == [], path


def test_only_the_proxy_is_published_and_only_on_http_and_https(compose: dict[str, Any]) -> None:
    published = {name for name, service in compose["services"].items() if "ports" in service}
    host_network = [
        name for name, service in compose["services"].items() if "network_mode" in service
    ]

    assert published == {"proxy"}
    assert {port.split(":")[0] for port in compose["services"]["proxy"]["ports"]} == {"80", "443"}
    assert host_network == []


def test_a_provided_certificate_reaches_the_proxy_as_required_secrets() -> None:
    override = yaml.safe_load((REPO / "deploy" / "compose.tls.yml").read_text())
    proxy = override["services"]["proxy"]

    assert proxy["environment"]["DAGSTER_TLS"] == "provided"
    assert set(proxy["secrets"]) == set(override["secrets"]) == {"tls_certificate", "tls_key"}
    for secret in override["secrets"].values():
        assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", secret["file"])


def test_the_image_runs_on_the_production_instance_config() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()

    assert "COPY workspace.yaml dagster.yaml ./" in dockerfile
    assert re.search(r"cp dagster\.yaml \$DAGSTER_HOME/", dockerfile)
