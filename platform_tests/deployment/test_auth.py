"""Who may do what in the production topology, on real servers: Caddy with deploy/Caddyfile in
front of a full and a read-only Dagster webserver, and MLflow's basic-auth app with the users
deploy/mlflow_users.py gives it. Every role is tried both ways: what it may do, and what not."""

import importlib.util
import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import dagster as dg
import httpx
import mlflow
import mlflow.pyfunc
import pandas as pd
import pytest
from mlflow.pyfunc.model import PythonModel

from dataplatform.defs.models.recommender_assets import DEFAULT_MODEL_NAME
from dataplatform.defs.models.sentiment_assets import MODEL_NAME
from dataplatform.models.registry import (
    Baseline,
    RegistryError,
    champion_version,
    register_and_promote,
)
from dataplatform.models.tracking import DEFAULT_EXPERIMENT
from platform_tests.deployment.auth_topology import (
    DEPLOY,
    JOB,
    LOCATION,
    REPO,
    Account,
    FrontDoor,
    caddy_binary,
    start_front_door,
    viewer_prefix,
)
from platform_tests.deployment.processes import Processes

pytestmark = pytest.mark.timeout(900)  # generous: MLflow checks a slow password hash per request

REPOSITORIES = """
{ repositoriesOrError { ... on RepositoryConnection { nodes { name jobs { name } } } } }
"""
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on UnauthorizedError { message }
    ... on PythonError { message }
  }
}
"""
RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) { __typename ... on Run { jobName status } }
}
"""
LAUNCH_PARAMS = {
    "selector": {
        "repositoryLocationName": LOCATION,
        "repositoryName": "__repository__",
        "jobName": JOB,
    },
    "runConfigData": {},
}


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrontDoor]:
    root = tmp_path_factory.mktemp("front_door")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    # Created once here: both webservers creating the new SQLite storage at once race.
    dg.DagsterInstance.from_config(str(home)).dispose()
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    processes = Processes(root, env, REPO)
    try:
        yield start_front_door(processes, root)
    finally:
        processes.stop_all()


class Certain(PythonModel):
    """A model that always answers 1.0: what it predicts is beside the point here."""

    def predict(self, context: object, model_input: pd.DataFrame, params: dict | None = None):
        return pd.Series([1.0] * len(model_input))


@pytest.fixture
def tracking(door: FrontDoor, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """MLflow's client pointed at the proxy, as the runs see it (credentials set per test)."""
    previous_uri = mlflow.get_tracking_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", door.mlflow_url)
    mlflow.set_tracking_uri(door.mlflow_url)
    yield
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(previous_uri)


def sign_in(monkeypatch: pytest.MonkeyPatch, account: Account) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", account.user)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", account.password)


def graphql(url: str, auth: tuple[str, str] | None, query: str, **variables: Any) -> httpx.Response:
    return httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, auth=auth, timeout=60
    )


def mlflow_api(
    door: FrontDoor, auth: tuple[str, str] | None, path: str, body: dict[str, Any]
) -> httpx.Response:
    return httpx.post(f"{door.mlflow_url}/api/2.0/mlflow/{path}", json=body, auth=auth, timeout=60)


def test_nothing_is_served_without_the_right_password(door: FrontDoor) -> None:
    viewer_ui = f"{door.dagster_url}{viewer_prefix()}"
    wrong = (door.operator.user, door.viewer.password)

    for url in (door.dagster_url, viewer_ui):
        for auth in (None, wrong):
            response = httpx.get(f"{url}/", auth=auth, timeout=60)
            assert response.status_code == 401, (url, auth)
            assert response.headers["www-authenticate"].startswith("Basic")
            # The API the UI calls, a mutation included, is behind the same door.
            assert graphql(url, auth, LAUNCH, params=LAUNCH_PARAMS).status_code == 401, url
    # The viewer's password opens the read-only UI only.
    assert graphql(door.dagster_url, door.viewer.auth, REPOSITORIES).status_code == 401
    assert mlflow_api(door, None, "registered-models/create", {"name": "x"}).status_code == 401
    assert httpx.get(f"{door.mlflow_url}/", timeout=60).status_code == 401


def test_a_viewer_reads_the_asset_graph_but_cannot_launch(door: FrontDoor) -> None:
    viewer_ui = f"{door.dagster_url}{viewer_prefix()}"

    read = graphql(viewer_ui, door.viewer.auth, REPOSITORIES).json()
    launch = graphql(viewer_ui, door.viewer.auth, LAUNCH, params=LAUNCH_PARAMS).json()

    [repository] = read["data"]["repositoriesOrError"]["nodes"]
    assert JOB in {job["name"] for job in repository["jobs"]}
    assert launch["data"]["launchRun"]["__typename"] == "UnauthorizedError", launch


def test_an_operator_launches_a_run_the_viewer_then_sees(door: FrontDoor) -> None:
    launched = graphql(door.dagster_url, door.operator.auth, LAUNCH, params=LAUNCH_PARAMS).json()

    result = launched["data"]["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", launched
    viewer_ui = f"{door.dagster_url}{viewer_prefix()}"
    run = graphql(viewer_ui, door.viewer.auth, RUN, runId=result["run"]["runId"]).json()
    assert run["data"]["runOrError"]["jobName"] == JOB


def test_the_pipeline_registers_a_version_and_moves_the_champion_alias(door: FrontDoor) -> None:
    version = register_version(door, door.mlflow_pipeline.auth)
    alias = {"name": MODEL_NAME, "alias": "champion", "version": version}

    moved = mlflow_api(door, door.mlflow_pipeline.auth, "registered-models/alias", alias)

    assert moved.status_code == 200, moved.text
    champion = httpx.get(
        f"{door.mlflow_url}/api/2.0/mlflow/registered-models/alias",
        params={"name": MODEL_NAME, "alias": "champion"},
        auth=door.mlflow_viewer.auth,
        timeout=60,
    )
    assert champion.json()["model_version"]["version"] == version


@pytest.mark.usefixtures("tracking")
def test_the_platforms_own_registration_promotes_as_the_pipeline_and_not_as_a_viewer(
    door: FrontDoor, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(monkeypatch, door.mlflow_pipeline)
    mlflow.set_experiment(DEFAULT_EXPERIMENT)
    with mlflow.start_run():
        logged = mlflow.pyfunc.log_model(
            name="model", python_model=Certain(), pip_requirements=["pandas"]
        )
    baseline = Baseline("coin", "score", score=0.5, challenger_score=1.0)

    def promote() -> str:
        return register_and_promote(
            logged.model_uri, MODEL_NAME, "score", 1.0, lambda _: 0.0, 0.05, baseline
        ).version

    promoted = promote()
    sign_in(monkeypatch, door.mlflow_viewer)
    with pytest.raises(RegistryError, match="error code 403"):
        promote()

    champion = champion_version(MODEL_NAME)
    assert champion is not None and str(champion.version) == promoted


def test_an_mlflow_viewer_reads_but_cannot_register_create_or_move_the_alias(
    door: FrontDoor,
) -> None:
    viewer = door.mlflow_viewer.auth
    experiment = httpx.get(
        f"{door.mlflow_url}/api/2.0/mlflow/experiments/get-by-name",
        params={"experiment_name": DEFAULT_EXPERIMENT},
        auth=viewer,
        timeout=60,
    )
    assert experiment.status_code == 200
    experiment_id = experiment.json()["experiment"]["experiment_id"]

    refused = {
        "runs/create": {"experiment_id": experiment_id},
        "model-versions/create": {"name": MODEL_NAME, "source": "models:/x/1"},
        "registered-models/alias": {"name": MODEL_NAME, "alias": "champion", "version": "1"},
        "registered-models/create": {"name": "a_viewers_model"},
        "experiments/create": {"name": "a_viewers_experiment"},
    }
    for path, body in refused.items():
        assert mlflow_api(door, viewer, path, body).status_code == 403, path


def test_the_provisioned_names_are_the_ones_the_platform_writes_to() -> None:
    spec = importlib.util.spec_from_file_location("mlflow_users", DEPLOY / "mlflow_users.py")
    assert spec is not None and spec.loader is not None
    provisioning = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(provisioning)

    assert provisioning.EXPERIMENT == DEFAULT_EXPERIMENT
    assert set(provisioning.REGISTERED_MODELS) == {MODEL_NAME, DEFAULT_MODEL_NAME}


def adapt_caddyfile(**sites: str) -> subprocess.CompletedProcess[str]:
    """deploy/Caddyfile as Caddy reads it with the proxy's environment and these sites."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DAGSTER_OPERATOR_USER": "operator",
        "DAGSTER_OPERATOR_PASSWORD_HASH": "$2a$14$a",
        "DAGSTER_VIEWER_USER": "viewer",
        "DAGSTER_VIEWER_PASSWORD_HASH": "$2a$14$b",
        "DAGSTER_OPERATOR_UPSTREAM": "webserver:3000",
        "DAGSTER_VIEWER_UPSTREAM": "webserver_readonly:3000",
        "MLFLOW_UPSTREAM": "mlflow:5000",
        **sites,
    }
    argv = [
        caddy_binary(),
        "adapt",
        "--config",
        str(DEPLOY / "Caddyfile"),
        "--adapter",
        "caddyfile",
    ]
    return subprocess.run(argv, env=environment, capture_output=True, text=True, timeout=60)


def adapted_apps(**sites: str) -> dict[str, Any]:
    done = adapt_caddyfile(**sites)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["apps"]


def listening(apps: dict[str, Any]) -> set[str]:
    return {address for server in apps["http"]["servers"].values() for address in server["listen"]}


def test_the_proxy_serves_plain_http_only_on_an_explicit_http_address() -> None:
    apps = adapted_apps(DAGSTER_SITE="http://127.0.0.1:8080", MLFLOW_SITE="http://127.0.0.1:8081")

    assert listening(apps) == {":8080", ":8081"}
    assert "tls" not in apps


def test_the_proxy_gets_certificates_for_its_names_by_default() -> None:
    apps = adapted_apps(DAGSTER_SITE="dagster.example.com", MLFLOW_SITE="mlflow.example.com")

    assert listening(apps) == {":443"}
    assert "certificates" not in apps.get("tls", {})  # none loaded: Caddy's automatic HTTPS


def test_the_proxy_serves_a_provided_certificate_on_both_names() -> None:
    apps = adapted_apps(
        DAGSTER_SITE="dagster.example.com", MLFLOW_SITE="mlflow.example.com", DAGSTER_TLS="provided"
    )

    [server] = apps["http"]["servers"].values()
    loaded = apps["tls"]["certificates"]["load_files"]
    assert {(f["certificate"], f["key"]) for f in loaded} == {
        ("/run/secrets/tls_certificate", "/run/secrets/tls_key")
    }
    served = {
        name
        for policy in server["tls_connection_policies"]
        for name in policy.get("match", {}).get("sni", [])
    }
    assert served == {"dagster.example.com", "mlflow.example.com"}


def test_an_unknown_tls_mode_stops_the_proxy_at_start() -> None:
    done = adapt_caddyfile(DAGSTER_SITE="dagster.example.com", DAGSTER_TLS="self-signed")

    assert done.returncode != 0
    assert "tls_self-signed" in done.stderr


def register_version(door: FrontDoor, auth: tuple[str, str]) -> str:
    """A run in the platform's experiment and a version of the sentiment model from it."""
    experiment = httpx.get(
        f"{door.mlflow_url}/api/2.0/mlflow/experiments/get-by-name",
        params={"experiment_name": DEFAULT_EXPERIMENT},
        auth=auth,
        timeout=60,
    ).json()["experiment"]
    run = mlflow_api(door, auth, "runs/create", {"experiment_id": experiment["experiment_id"]})
    assert run.status_code == 200, run.text
    info = run.json()["run"]["info"]
    source = f"{info['artifact_uri']}/model"
    body = {"name": MODEL_NAME, "source": source, "run_id": info["run_id"]}
    created = mlflow_api(door, auth, "model-versions/create", body)
    assert created.status_code == 200, created.text
    return created.json()["model_version"]["version"]
