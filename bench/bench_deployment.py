"""The production deployment on Postgres: run launch latency, throughput and the run queue,
and the daily refresh on the multiprocess executor against Celery at two volumes.

The topology starts natively as in platform_tests/deployment: a fresh Postgres database under
the repo's dagster.yaml (as shipped: queue limit 4, two-second dequeue), gRPC code servers,
webserver, daemon, two Celery workers (one step at a time each) on Redis and an MLflow
server; the retraining sensors are stopped so no training run competes with the timed runs.
Runs are submitted through the webserver's GraphQL API; every time comes from the instance's
run records (created, started, ended). Needs the local Postgres and Redis.
Usage: `python -m bench.bench_deployment [volume ...]` (listens per day; default
10,000 100,000), with DATAPLATFORM_BENCH_REDIS_URL (default redis://127.0.0.1:6379/6).
"""

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import redis
import yaml
from dagster_graphql import DagsterGraphQLClient
from platform_tests.deployment.code_location import trivial_job
from platform_tests.deployment.processes import Processes, free_port, port_open, wait_until
from platform_tests.deployment.topology import (
    PRODUCT_LOCATION,
    REPO,
    RETRAINING_SENSORS,
    celery_worker,
    code_server,
    create_storage,
    environment,
    mlflow_server,
    start_frontends,
    stop_sensors,
    wait_for_ports,
    wait_for_webserver,
    write_celery_config,
)
from platform_tests.services import fresh_postgres_database

from bench.common import markdown_table

VOLUMES = (10_000, 100_000)
DAY = "2026-03-01"
MAX_CONCURRENT_RUNS = 4
SEQUENTIAL_RUNS = 5
QUEUED_RUNS = 20
EXECUTORS = ("multiprocess", "celery")
TESTS_LOCATION = "deployment_tests"
REDIS_URL = os.getenv("DATAPLATFORM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
RUN_TIMEOUT = 1800


@dataclass
class Deployment:
    client: DagsterGraphQLClient
    instance: dg.DagsterInstance
    processes: Processes


@dataclass
class Timing:
    """One run's times, in seconds from its submission."""

    submitted: float
    launched: float
    started: float
    ended: float
    success: bool

    @property
    def to_start(self) -> float:
        return self.started - self.submitted

    @property
    def to_end(self) -> float:
        return self.ended - self.submitted


def product_location(executor: str) -> str:
    return f"{PRODUCT_LOCATION}_{executor}"


def write_workspace(path: Path, ports: dict[str, int]) -> None:
    path.write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {"grpc_server": {"host": "127.0.0.1", "port": port, "location_name": name}}
                    for name, port in ports.items()
                ]
            }
        )
    )


def start_code_servers(processes: Processes, ports: dict[str, int], celery_config: Path) -> None:
    """One product location per executor (the executor is chosen by the environment), the
    test location for the trivial job, and the two Celery workers."""
    processes.start(
        TESTS_LOCATION,
        code_server(ports[TESTS_LOCATION], "platform_tests.deployment.code_location"),
    )
    for executor in EXECUTORS:
        location = product_location(executor)
        processes.start(
            location,
            code_server(ports[location], "dataplatform.definitions"),
            {"DATAPLATFORM_EXECUTOR": executor},
        )
    for worker in ("worker_a", "worker_b"):
        processes.start(
            worker, celery_worker(worker, celery_config), {"DATAPLATFORM_EXECUTOR": "celery"}
        )


@contextmanager
def deployment(root: Path, api_port: int) -> Iterator[Deployment]:
    postgres_url = fresh_postgres_database("dataplatform_bench_deployment")
    mlflow_store = fresh_postgres_database("dataplatform_bench_mlflow")
    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).flushdb()
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    instance_env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_POSTGRES_URL": postgres_url,
        "DAGSTER_MAX_CONCURRENT_RUNS": str(MAX_CONCURRENT_RUNS),
    }
    os.environ.update(instance_env)
    create_storage(home)
    mlflow_port = free_port()
    env = environment(
        **instance_env,
        MLFLOW_TRACKING_URI=f"http://127.0.0.1:{mlflow_port}",
        DATAPLATFORM_DATA_DIR=str(root / "data"),
        DATAPLATFORM_API_URL=f"http://127.0.0.1:{api_port}",
        DATAPLATFORM_DATAHUB_SINK="none",
        DATAPLATFORM_CELERY_BROKER=REDIS_URL,
        DATAPLATFORM_CELERY_BACKEND=REDIS_URL,
    )
    (root / "logs").mkdir()
    processes = Processes(root / "logs", env, cwd=REPO)
    ports = {name: free_port() for name in (TESTS_LOCATION, *map(product_location, EXECUTORS))}
    web_port = free_port()
    try:
        processes.start("mlflow", mlflow_server(mlflow_port, mlflow_store, root / "mlartifacts"))
        write_celery_config(root / "celery.yaml", REDIS_URL, REDIS_URL)
        start_code_servers(processes, ports, root / "celery.yaml")
        wait_for_ports(processes, list(ports.values()), timeout=300)
        write_workspace(root / "workspace.yaml", ports)
        start_frontends(processes, root / "workspace.yaml", web_port)
        wait_for_webserver(processes, web_port, timeout=300)
        client = DagsterGraphQLClient("127.0.0.1", port_number=web_port)
        for executor in EXECUTORS:
            stop_sensors(client, product_location(executor), RETRAINING_SENSORS)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            yield Deployment(client, instance, processes)
    finally:
        processes.stop_all()


def submit(
    deployment: Deployment, job: str, location: str, tags: dict[str, str] | None = None
) -> tuple[str, float]:
    submitted = time.time()
    run_id = deployment.client.submit_job_execution(
        job, repository_location_name=location, repository_name="__repository__", tags=tags
    )
    return run_id, submitted


def wait_for_run(deployment: Deployment, run_id: str, submitted: float) -> Timing:
    def finished() -> bool:
        deployment.processes.assert_alive()
        return deployment.instance.get_run_by_id(run_id).is_finished

    wait_until(finished, RUN_TIMEOUT, f"run {run_id}", poll=0.2)
    record = deployment.instance.get_run_record_by_id(run_id)
    # The queue's daemon records RUN_STARTING when it takes a run out and launches it.
    [launched] = deployment.instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_STARTING)
    return Timing(
        submitted=submitted,
        launched=launched.timestamp,
        started=record.start_time or record.end_time,
        ended=record.end_time,
        success=record.dagster_run.is_success,
    )


def in_process_seconds(instance: dg.DagsterInstance) -> float:
    """The trivial job executed in this process on the same instance: no queue, no launch."""
    trivial_job.execute_in_process(instance=instance)  # warm: imports and first connection
    durations = []
    for _ in range(SEQUENTIAL_RUNS):
        started = time.perf_counter()
        trivial_job.execute_in_process(instance=instance)
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def launch_table(deployment: Deployment) -> tuple[str, float]:
    """Trivial runs one after another; returns the table and runs per minute."""
    baseline = in_process_seconds(deployment.instance)
    wait_for_run(deployment, *submit(deployment, "trivial_job", TESTS_LOCATION))  # warm
    timings = [
        wait_for_run(deployment, *submit(deployment, "trivial_job", TESTS_LOCATION))
        for _ in range(SEQUENTIAL_RUNS)
    ]
    to_launched = statistics.median(t.launched - t.submitted for t in timings)
    to_start = statistics.median(t.to_start for t in timings)
    to_end = statistics.median(t.to_end for t in timings)
    rows = [
        ["in process on the same instance (baseline)", "-", "-", round(baseline, 2), "1.0x"],
        [
            f"submitted through the webserver, median of {len(timings)}",
            round(to_launched, 2),
            round(to_start, 2),
            round(to_end, 2),
            f"{to_end / baseline:.0f}x",
        ],
    ]
    header = [
        "trivial job",
        "submit -> launched s",
        "submit -> STARTED s",
        "submit -> SUCCESS s",
        "vs baseline",
    ]
    failed = sum(not t.success for t in timings)
    table = markdown_table(header, rows) + (f"\n\n**{failed} runs failed**" if failed else "")
    return table, 60 / to_end


def max_overlap(timings: list[Timing]) -> int:
    """The most runs the queue let out at once (launched and not yet ended)."""
    edges = sorted([(t.launched, 1) for t in timings] + [(t.ended, -1) for t in timings])
    running = peak = 0
    for _, change in edges:
        running += change
        peak = max(peak, running)
    return peak


def queue_table(deployment: Deployment, sequential_per_minute: float) -> str:
    submitted = [submit(deployment, "trivial_job", TESTS_LOCATION) for _ in range(QUEUED_RUNS)]
    timings = [wait_for_run(deployment, run_id, at) for run_id, at in submitted]
    drain = max(t.ended for t in timings) - min(t.submitted for t in timings)
    per_minute = 60 * QUEUED_RUNS / drain
    rows = [
        ["one at a time (baseline)", "-", "-", round(sequential_per_minute, 1), "1.0x"],
        [
            f"{QUEUED_RUNS} submitted at once",
            round(drain, 1),
            f"{max_overlap(timings)} (limit {MAX_CONCURRENT_RUNS})",
            round(per_minute, 1),
            f"{per_minute / sequential_per_minute:.1f}x",
        ],
    ]
    header = ["trivial runs", "drained in s", "out of the queue at once", "runs/min", "vs baseline"]
    failed = sum(not t.success for t in timings)
    queued = [t.launched - t.submitted for t in timings]
    launch = statistics.median(t.started - t.launched for t in timings)
    notes = (
        f"\n\nRuns waited {min(queued):.1f}-{max(queued):.1f} s in the queue; once dequeued,"
        f" a run's process took a median {launch:.1f} s to start."
        + (f" **{failed} runs failed**" if failed else "")
    )
    return markdown_table(header, rows) + notes


@contextmanager
def demo_api(processes: Processes, port: int, listens_per_day: int) -> Iterator[None]:
    """The demo API at a fixed port, which every code location's environment points at."""
    name = f"demo_api_{listens_per_day}"
    processes.start(
        name,
        [
            sys.executable,
            "-m",
            "dataplatform.demo_api",
            "--port",
            str(port),
            "--listens-per-day",
            str(listens_per_day),
        ],
    )
    try:
        wait_until(lambda: port_open(port), 120, "the demo API", poll=0.2)
        yield
    finally:
        process = processes.started.pop(name)
        process.terminate()
        process.wait(timeout=30)


def refresh(deployment: Deployment, executor: str, job: str = "daily_refresh") -> Timing:
    tags = {"dagster/partition": DAY}
    return wait_for_run(deployment, *submit(deployment, job, product_location(executor), tags))


def refresh_rows(deployment: Deployment, api_port: int, volume: int) -> list[list[object]]:
    with demo_api(deployment.processes, api_port, volume):
        # Warm: the demo API generates the day's pages on their first read.
        refresh(deployment, "multiprocess", job="raw_job")
        timings = {executor: refresh(deployment, executor) for executor in EXECUTORS}
    baseline = timings["multiprocess"].to_end
    return [
        [
            f"{volume:,}",
            executor + (" (baseline)" if executor == "multiprocess" else ", 2 workers"),
            round(timing.to_start, 1),
            round(timing.ended - timing.started, 1),
            round(timing.to_end, 1),
            f"{timing.to_end / baseline:.2f}x",
            "yes" if timing.success else "**FAILED**",
        ]
        for executor, timing in timings.items()
    ]


def refresh_table(deployment: Deployment, api_port: int, volume: int) -> str:
    rows = refresh_rows(deployment, api_port, volume)
    header = [
        "listens/day",
        "executor",
        "submit -> STARTED s",
        "STARTED -> end s",
        "submit -> end s",
        "vs multiprocess",
        "ok",
    ]
    return markdown_table(header, rows)


def main(volumes: list[int]) -> None:
    api_port = free_port()
    with tempfile.TemporaryDirectory() as tmp, deployment(Path(tmp), api_port) as deployed:
        launch, sequential_per_minute = launch_table(deployed)
        print(launch, flush=True)
        print(f"\nThe run queue draining {QUEUED_RUNS} trivial runs:\n")
        print(queue_table(deployed, sequential_per_minute), flush=True)
        print(f"\nThe daily refresh of {DAY}, multiprocess executor against Celery on Redis:\n")
        for volume in volumes:
            print(refresh_table(deployed, api_port, volume) + "\n", flush=True)


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or list(VOLUMES))
