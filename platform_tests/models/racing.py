"""Step processes racing to start the same Dagster run's MLflow run: importable by name, so a
spawned process can run it."""

from multiprocessing.synchronize import Barrier
from queue import Queue

from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from dataplatform.models.top_level_run import top_level_run_id


class CreatingAtOnce(MlflowClient):
    """Creates its run only once every racer has searched and found none: all of them create."""

    def __init__(self, tracking_uri: str, barrier: Barrier) -> None:
        super().__init__(tracking_uri=tracking_uri)
        self.barrier = barrier

    def create_run(self, *args, **kwargs) -> Run:
        self.barrier.wait()
        return super().create_run(*args, **kwargs)


def start_the_run(
    tracking_uri: str,
    experiment_id: str,
    dagster_run_id: str,
    barrier: Barrier,
    every_racer_creates: bool,
    index: int,
    results: "Queue[tuple[int, str]]",
) -> None:
    """One step's process: finds or creates the run, then logs into it."""
    if every_racer_creates:
        client = CreatingAtOnce(tracking_uri, barrier)
    else:
        client = MlflowClient(tracking_uri=tracking_uri)
        barrier.wait()
    run_id = top_level_run_id(client, experiment_id, dagster_run_id, run_name="raced")
    client.log_metric(run_id, f"racer_{index}", 1.0)
    results.put((index, run_id))
