"""The production topology on real servers: Postgres instance, gRPC code servers, webserver,
daemon, Celery workers on Redis and an MLflow server on Postgres that the product's recommender
trains against, driven through the webserver's GraphQL API."""

import contextlib
import itertools
import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import kombu.connection
import kombu.exceptions
import mlflow.artifacts
import mlflow.pyfunc
import pandas as pd
import psycopg2
import pytest
import redis
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus
from dagster_graphql import DagsterGraphQLClient
from mlflow import MlflowClient

from dataplatform.demo_api import DemoApiServer
from platform_tests.demo_data import SMALL
from platform_tests.deployment.processes import (
    Processes,
    free_port,
    http_ok,
    wait_until,
    wait_while_progressing,
)
from platform_tests.deployment.topology import (
    PRODUCT_LOCATION,
    REPO,
    RETRAINING_SENSORS,
    TEST_LOCATION,
    Deployment,
    celery_worker,
    create_storage,
    environment,
    first_whole_minute_after,
    mlflow_server,
    start_code_servers,
    start_frontends,
    stop_sensors,
    wait_for_locations,
    wait_for_ports,
    wait_for_webserver,
    write_celery_config,
    write_instance_config,
    write_workspace,
)
from platform_tests.services import (
    drop_postgres_database,
    fresh_postgres_database,
    service_unavailable,
    session_database_name,
)

# The first Redis database a session may claim; the next free one up to the last is taken.
REDIS_URL = os.getenv("DATAPLATFORM_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
REDIS_DATABASES = 16  # Redis's default number of databases
REDIS_CLAIM = "dataplatform_test_session"
REDIS_CLAIM_SECONDS = 3600  # a crashed session's claim lapses
RABBITMQ_URL = os.getenv("DATAPLATFORM_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
BACKFILL_DAYS = ["2026-03-02", "2026-03-03", "2026-03-04"]
# Runs are waited for as long as the deployment records events (any run's, the daemon's): a
# backfill took over 10 minutes at load average 20. Only this long without one fails a test.
STALL_TIMEOUT = 300
# Each wait below ends as soon as its process answers; the bound only catches a hang.
STARTUP_TIMEOUT = 300
# The real schedule ticks once a day at DATAPLATFORM_SCHEDULE_TIME; set to a minute the running
# daemon will reach while the other tests run (the topology started in ~90 s at load average 20;
# the backfill test alone takes longer than this, so the margin costs no time).
SCHEDULE_DELAY_SECONDS = 150
DROPPED_REVIEWS = "text,rating\nlovely,5\nawful,1\n"
RECOMMENDER = ["models", "recommender"]
RECOMMENDER_MODEL = "track_recommender"
FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}

pytestmark = pytest.mark.timeout(3600)  # a hang guard only: STALL_TIMEOUT catches a stuck run


def claim_redis_database() -> str:
    """A Redis database of this session's own, emptied: the Celery broker and result backend.
    Another session's workers on the same database would take this session's steps."""
    server, first = REDIS_URL.rsplit("/", 1)
    try:
        for number in range(int(first), REDIS_DATABASES):
            database = redis.Redis.from_url(f"{server}/{number}", socket_connect_timeout=3)
            if database.set(REDIS_CLAIM, os.getpid(), nx=True, ex=REDIS_CLAIM_SECONDS):
                for key in database.scan_iter():
                    if key != REDIS_CLAIM.encode():
                        database.delete(key)
                return f"{server}/{number}"
    except redis.RedisError as error:
        service_unavailable(f"Redis is not reachable at {REDIS_URL}: {error}")
    raise AssertionError(f"every Redis database from {REDIS_URL} on is claimed by a session")


def release_redis_database(url: str) -> None:
    redis.Redis.from_url(url, socket_connect_timeout=3).flushdb()


def rabbitmq_reachable() -> bool:
    try:
        with kombu.connection.Connection(RABBITMQ_URL, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except (OSError, kombu.exceptions.OperationalError):
        return False
    return True


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    databases = [
        session_database_name(f"dataplatform_test_{name}") for name in ("dagster", "mlflow")
    ]
    postgres_url, mlflow_store = (fresh_postgres_database(name) for name in databases)
    broker = claim_redis_database()
    root = tmp_path_factory.mktemp("deployment")
    home, data_dir = root / "dagster_home", root / "data"
    write_instance_config(home)
    (root / "logs").mkdir()
    schedule_at = first_whole_minute_after(SCHEDULE_DELAY_SECONDS)
    mlflow_port = free_port()
    with DemoApiServer(SMALL) as api, pytest.MonkeyPatch.context() as patch:
        env = environment(
            MLFLOW_TRACKING_URI=f"http://127.0.0.1:{mlflow_port}",
            DAGSTER_HOME=str(home),
            DAGSTER_POSTGRES_URL=postgres_url,
            DAGSTER_MAX_CONCURRENT_RUNS="4",
            DATAPLATFORM_DATA_DIR=str(data_dir),
            DATAPLATFORM_LANDING_DIR=str(data_dir / "landing"),
            DATAPLATFORM_API_URL=api.url,
            DATAPLATFORM_DATAHUB_SINK="none",
            DATAPLATFORM_SCHEDULE_TIME=schedule_at.strftime("%H:%M"),
            DATAPLATFORM_EXECUTOR="celery",
            DATAPLATFORM_CELERY_BROKER=broker,
            DATAPLATFORM_CELERY_BACKEND=broker,
        )
        for name in ("DAGSTER_HOME", "DAGSTER_POSTGRES_URL", "DAGSTER_MAX_CONCURRENT_RUNS"):
            patch.setenv(name, env[name])
        create_storage(home)
        processes = Processes(root / "logs", env, cwd=REPO)
        try:
            yield start(processes, root, mlflow_store, mlflow_port, schedule_at)
        finally:
            processes.stop_all()
            release_redis_database(broker)
            for name in databases:
                drop_postgres_database(name)


def start_workers(processes: Processes, root: Path, rabbitmq: bool) -> None:
    """Two workers on Redis for the product; one on RabbitMQ for the test location's job."""
    broker = processes.env["DATAPLATFORM_CELERY_BROKER"]
    write_celery_config(root / "redis.yaml", broker, broker)
    for worker in ("worker_a", "worker_b"):
        processes.start(worker, celery_worker(worker, root / "redis.yaml"))
    if rabbitmq:
        write_celery_config(root / "rabbitmq.yaml", RABBITMQ_URL, "rpc://")
        processes.start("worker_rabbitmq", celery_worker("worker_rabbitmq", root / "rabbitmq.yaml"))


def start(
    processes: Processes, root: Path, mlflow_store: str, mlflow_port: int, schedule_at: datetime
) -> Deployment:
    product_port, tests_port, web_port = (free_port() for _ in range(3))
    processes.start("mlflow", mlflow_server(mlflow_port, mlflow_store, root / "mlartifacts"))
    start_code_servers(processes, product_port, tests_port)
    rabbitmq = rabbitmq_reachable()
    start_workers(processes, root, rabbitmq)
    wait_for_ports(processes, [product_port, tests_port], timeout=STARTUP_TIMEOUT)
    write_workspace(root / "workspace.yaml", product_port, tests_port)
    start_frontends(processes, root / "workspace.yaml", web_port)
    wait_for_webserver(processes, web_port, timeout=STARTUP_TIMEOUT)
    daemon_started_at = datetime.now(UTC)
    client = DagsterGraphQLClient("127.0.0.1", port_number=web_port)
    wait_for_locations(client, processes, [PRODUCT_LOCATION, TEST_LOCATION], STARTUP_TIMEOUT)
    stop_sensors(client, PRODUCT_LOCATION, RETRAINING_SENSORS)
    drop_review_file(Path(processes.env["DATAPLATFORM_LANDING_DIR"]))
    wait_until(lambda: http_ok(f"http://127.0.0.1:{mlflow_port}/health"), STARTUP_TIMEOUT, "MLflow")
    return Deployment(
        client=client,
        processes=processes,
        home=root / "dagster_home",
        data_dir=Path(processes.env["DATAPLATFORM_DATA_DIR"]),
        landing_dir=Path(processes.env["DATAPLATFORM_LANDING_DIR"]),
        schedule_at=schedule_at,
        daemon_started_at=daemon_started_at,
        mlflow_url=processes.env["MLFLOW_TRACKING_URI"],
        mlflow_store=mlflow_store,
        rabbitmq_url=RABBITMQ_URL if rabbitmq else None,
        env=processes.env,
    )


def drop_review_file(landing_dir: Path) -> None:
    """Dropped as soon as the daemon runs, so the sensor's interval passes while other tests run."""
    reviews = landing_dir / "reviews"
    reviews.mkdir(parents=True, exist_ok=True)
    (reviews / "dropped.csv").write_text(DROPPED_REVIEWS)


RUNS_QUERY = """
query Runs($filter: RunsFilter!) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId status jobName startTime endTime tags { key value } } }
    ... on PythonError { message }
  }
}
"""

BACKFILL_MUTATION = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""


def runs_tagged(deployment: Deployment, key: str, value: str) -> list[dict[str, Any]]:
    data = deployment.graphql(RUNS_QUERY, {"filter": {"tags": [{"key": key, "value": value}]}})
    assert data["runsOrError"]["__typename"] == "Runs", data
    return data["runsOrError"]["results"]


def wait_for_runs(deployment: Deployment, key: str, value: str, count: int) -> list[dict[str, Any]]:
    """Wait until `count` runs tagged key=value exist and have all finished."""
    found: list[dict[str, Any]] = []

    def finished() -> bool:
        nonlocal found
        deployment.processes.assert_alive()
        found = runs_tagged(deployment, key, value)
        return len(found) >= count and all(
            run["status"] in {"SUCCESS", "FAILURE", "CANCELED"} for run in found
        )

    wait_for_progress(finished, f"{count} finished runs tagged {key}={value}")
    return found


def wait_for_status(deployment: Deployment, run_id: str) -> DagsterRunStatus:
    status = deployment.client.get_run_status(run_id)

    def finished() -> bool:
        nonlocal status
        deployment.processes.assert_alive()
        status = deployment.client.get_run_status(run_id)
        return status in FINISHED

    wait_for_progress(finished, f"run {run_id} to finish")
    return status


def wait_for_progress(condition: Callable[[], bool], what: str) -> None:
    """Waits while the instance's event log grows (the last event's id: one cheap query)."""
    with DagsterInstance.get() as instance:
        wait_while_progressing(
            condition, instance.event_log_storage.get_maximum_record_id, STALL_TIMEOUT, what
        )


def celery_workers_of(run_id: str) -> set[str]:
    with DagsterInstance.get() as instance:
        events = instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT)
    return {
        str(event.dagster_event.engine_event_data.metadata["Celery worker"].value)
        for event in events
        if event.dagster_event and "Celery worker" in event.dagster_event.engine_event_data.metadata
    }


@pytest.fixture(scope="module")
def backfill(deployment: Deployment) -> list[dict[str, Any]]:
    """The daily refresh backfilled over three days (cleaned listens the recommender trains on)."""
    params = {
        "selector": {
            "partitionSetName": "daily_refresh_partition_set",
            "repositorySelector": {
                "repositoryLocationName": PRODUCT_LOCATION,
                "repositoryName": "__repository__",
            },
        },
        "partitionNames": BACKFILL_DAYS,
    }
    launched = deployment.graphql(BACKFILL_MUTATION, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return wait_for_runs(deployment, "dagster/backfill", launched["backfillId"], len(BACKFILL_DAYS))


def test_backfill_of_three_days_succeeds_with_steps_on_both_celery_workers(
    deployment: Deployment, backfill: list[dict[str, Any]]
) -> None:
    partitions = {
        tag["value"] for run in backfill for tag in run["tags"] if tag["key"] == "dagster/partition"
    }
    assert partitions == set(BACKFILL_DAYS)
    assert {run["status"] for run in backfill} == {"SUCCESS"}, deployment.processes.tails(
        ["worker_a", "worker_b"]
    )
    workers = set().union(*(celery_workers_of(run["runId"]) for run in backfill))
    assert {name.split("@")[0] for name in workers} == {"worker_a", "worker_b"}
    for day in BACKFILL_DAYS:
        assert (deployment.data_dir / "cleaned" / "listens" / f"{day}.parquet").exists()


def test_a_transiently_failing_step_is_retried_and_the_run_succeeds(
    deployment: Deployment, tmp_path: Path
) -> None:
    run_id = deployment.client.submit_job_execution(
        "flaky_job",
        repository_location_name=TEST_LOCATION,
        run_config={"ops": {"transient_step": {"config": {"marker": str(tmp_path / "seen")}}}},
    )

    assert wait_for_status(deployment, run_id) == DagsterRunStatus.SUCCESS
    with DagsterInstance.get() as instance:
        retries = instance.all_logs(run_id, of_type=DagsterEventType.STEP_UP_FOR_RETRY)
    assert len(retries) == 1


def test_the_run_queue_runs_one_training_run_at_a_time(deployment: Deployment) -> None:
    run_ids = [
        deployment.client.submit_job_execution(
            "training_job", repository_location_name=TEST_LOCATION
        )
        for _ in range(3)
    ]
    for run_id in run_ids:
        assert wait_for_status(deployment, run_id) == DagsterRunStatus.SUCCESS

    runs = [
        run
        for run in runs_tagged(deployment, "dagster/concurrency_key", "training")
        if run["runId"] in run_ids
    ]
    spans = sorted((run["startTime"], run["endTime"]) for run in runs)
    assert len(spans) == 3
    for (_, previous_end), (next_start, _) in itertools.pairwise(spans):
        assert next_start >= previous_end


def launch_hanging_run(deployment: Deployment, tmp_path: Path, max_runtime: int) -> str:
    """A run of killable_job whose first attempt hangs; its pid lands in tmp_path/pid."""
    config = {"marker": str(tmp_path / "seen"), "pid_file": str(tmp_path / "pid")}
    return deployment.client.submit_job_execution(
        "killable_job",
        repository_location_name=TEST_LOCATION,
        run_config={"ops": {"long_step": {"config": config}}},
        tags={"dagster/max_runtime": str(max_runtime)},
    )


def event_messages(run_id: str) -> str:
    with DagsterInstance.get() as instance:
        return "\n".join(event.message for event in instance.all_logs(run_id))


def test_a_killed_run_worker_fails_the_run_and_the_automatic_retry_succeeds(
    deployment: Deployment, tmp_path: Path
) -> None:
    run_id = launch_hanging_run(deployment, tmp_path, max_runtime=600)
    wait_for_progress((tmp_path / "pid").exists, "the run worker to start")
    os.kill(int((tmp_path / "pid").read_text()), signal.SIGKILL)

    assert wait_for_status(deployment, run_id) == DagsterRunStatus.FAILURE
    assert "SIGKILL" in event_messages(run_id)
    [retry] = wait_for_runs(deployment, "dagster/parent_run_id", run_id, 1)
    assert retry["status"] == "SUCCESS"


def test_run_monitoring_ends_a_hung_run_and_the_next_run_succeeds(
    deployment: Deployment, tmp_path: Path
) -> None:
    hung = launch_hanging_run(deployment, tmp_path, max_runtime=5)

    # Monitoring cancels it; whether the run ends CANCELED or FAILURE depends on which of the
    # run worker and the daemon records the end first.
    assert wait_for_status(deployment, hung) in {
        DagsterRunStatus.CANCELED,
        DagsterRunStatus.FAILURE,
    }
    assert "exceeding maximum runtime" in event_messages(hung)
    following = launch_hanging_run(deployment, tmp_path, max_runtime=600)
    assert wait_for_status(deployment, following) == DagsterRunStatus.SUCCESS


def registered_models_in(store: str) -> set[str]:
    """The registered models as the MLflow server's Postgres backend store holds them."""
    connection = psycopg2.connect(store.replace("+psycopg2", ""))
    with contextlib.closing(connection), connection.cursor() as cursor:
        cursor.execute("SELECT name FROM registered_models")
        return {name for (name,) in cursor.fetchall()}


def test_the_recommender_asset_trains_on_a_worker_and_is_promoted_on_the_mlflow_server(
    deployment: Deployment, backfill: list[dict[str, Any]], tmp_path: Path
) -> None:
    run_id = deployment.client.submit_job_execution(
        "__ASSET_JOB",
        repository_location_name=PRODUCT_LOCATION,
        asset_selection=[RECOMMENDER],
        # Three backfilled days: train on the first two, hold out the third.
        run_config={"ops": {"models__recommender": {"config": {"holdout_days": 1}}}},
    )

    assert wait_for_status(deployment, run_id) == DagsterRunStatus.SUCCESS, event_messages(run_id)
    client = MlflowClient(tracking_uri=deployment.mlflow_url)
    champion = client.get_model_version_by_alias(RECOMMENDER_MODEL, "champion")
    assert champion.run_id is not None and champion.source is not None
    training = client.get_run(champion.run_id)
    assert (
        client.get_run(training.data.tags["mlflow.parentRunId"]).data.tags["dagster_run_id"]
        == run_id
    )
    assert 0 < training.data.metrics["precision_at_10"] <= 1
    assert RECOMMENDER_MODEL in registered_models_in(deployment.mlflow_store)
    logged = client.get_logged_model(champion.source.removeprefix("models:/"))
    assert logged.artifact_location.startswith("mlflow-artifacts:")
    served = mlflow.pyfunc.load_model(
        mlflow.artifacts.download_artifacts(
            artifact_uri=logged.artifact_location,
            dst_path=str(tmp_path),
            tracking_uri=deployment.mlflow_url,
        )
    )
    plays = pd.read_parquet(
        deployment.data_dir / "cleaned" / "listens" / f"{BACKFILL_DAYS[-1]}.parquet",
        columns=["user_id", "track_id"],
    )
    recommended = served.predict(plays.dropna().astype("int64"))
    assert 0 < recommended["user_id"].nunique() <= plays["user_id"].nunique()


def test_a_job_runs_on_celery_workers_over_rabbitmq(deployment: Deployment) -> None:
    if deployment.rabbitmq_url is None:
        service_unavailable(f"RabbitMQ is not reachable at {RABBITMQ_URL}")
    run_id = deployment.client.submit_job_execution(
        "celery_job",
        repository_location_name=TEST_LOCATION,
        run_config={
            "execution": {"config": {"broker": deployment.rabbitmq_url, "backend": "rpc://"}}
        },
    )

    assert wait_for_status(deployment, run_id) == DagsterRunStatus.SUCCESS
    assert {name.split("@")[0] for name in celery_workers_of(run_id)} == {"worker_rabbitmq"}


def test_the_landing_sensor_picks_up_a_dropped_file(deployment: Deployment) -> None:
    [run] = wait_for_runs(deployment, "dagster/sensor_name", "landing_reviews_sensor", 1)

    assert run["status"] == "SUCCESS"
    assert not (deployment.landing_dir / "reviews" / "dropped.csv").exists()
    [archived] = (deployment.landing_dir / "_archive" / "reviews").glob("*__dropped.csv")
    assert archived.read_text() == DROPPED_REVIEWS


def test_the_daily_schedule_ticks_and_its_run_succeeds(deployment: Deployment) -> None:
    # Ticks before the daemon's first look at the schedule are skipped, not caught up.
    if deployment.daemon_started_at >= deployment.schedule_at - timedelta(seconds=15):
        pytest.fail(
            f"the daemon started at {deployment.daemon_started_at:%H:%M:%S}, after the schedule"
            f" time {deployment.schedule_at:%H:%M}: raise SCHEDULE_DELAY_SECONDS"
        )
    wait_until(lambda: time.time() > deployment.schedule_at.timestamp(), 240, "the schedule time")

    [run] = wait_for_runs(deployment, "dagster/schedule_name", "daily_refresh_schedule", 1)

    yesterday = (deployment.schedule_at - timedelta(days=1)).date().isoformat()
    assert {"key": "dagster/partition", "value": yesterday} in run["tags"]
    assert run["status"] == "SUCCESS"
