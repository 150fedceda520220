"""The one top-level MLflow run of a Dagster run, found or created safely when steps in separate
processes start at the same moment (MLflow only; no Dagster).

MLflow has no atomic "create unless one exists", so each step that finds no run creates one and
then all converge: every run carries a claim, the time its creator read *after* the run was
stored, and the run with the earliest claim (then the smallest run id) is the Dagster run's.
The others are ended KILLED, tagged as duplicates and deleted by the process that made them; a
run its creator died before claiming is deleted as abandoned by the next step that waits for it.

Why a claim and not the start time: MLflow's start time is read before the run is stored, so a
run whose creation was slow (a locked SQLite file, a busy server) could carry an earlier start
time than a run another step has already adopted. A claim is read after the run is visible, so a
run that appears after a step has chosen can never rank before that step's choice. This holds
against a remote tracking server as long as the step processes' clocks agree to within the time
a search takes.
"""

import contextlib
import time
from collections.abc import Callable

from mlflow.entities import Run, ViewType
from mlflow.entities.run_status import RunStatus
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from mlflow.tracking.context.registry import resolve_tags

DAGSTER_RUN_TAG = "dagster_run_id"  # dagster-mlflow's tag
CLAIM_TAG = "dagster_run_claimed_at_ns"
DUPLICATE_TAG = "dagster_run_duplicate_of"
ABANDONED_TAG = "dagster_run_abandoned"
PARENT_TAG = "mlflow.parentRunId"


def top_level_run_id(
    client: MlflowClient,
    experiment_id: str,
    dagster_run_id: str,
    run_name: str,
    claim_timeout_seconds: float = 30.0,
    clock: Callable[[], int] = time.time_ns,
) -> str:
    """The id of the Dagster run's top-level MLflow run, created if there is none yet.

    A run still without its claim is waited for (its creator is between two calls) for up to
    `claim_timeout_seconds`, then deleted as abandoned: its creator died before claiming it.
    A creator that was only slow finds its run deleted when it claims it, and starts over."""
    while True:
        chosen = _converge(client, experiment_id, dagster_run_id, claim_timeout_seconds)
        if chosen is not None:
            return chosen.info.run_id
        # The tags `mlflow.start_run` adds (user, source, git commit), as the fluent API would.
        tags = resolve_tags({DAGSTER_RUN_TAG: dagster_run_id})
        own_id = client.create_run(experiment_id, tags=tags, run_name=run_name).info.run_id
        try:
            client.set_tag(own_id, CLAIM_TAG, str(clock()))  # read after the run is stored
        except MlflowException:
            continue  # deleted as abandoned before it was claimed
        chosen = _converge(client, experiment_id, dagster_run_id, claim_timeout_seconds)
        if chosen is None:
            continue  # deleted as abandoned although claimed: the claim came too late
        if chosen.info.run_id != own_id:
            # It may already be deleted as abandoned, if its claim came too late.
            with contextlib.suppress(MlflowException):
                _discard(client, own_id, DUPLICATE_TAG, chosen.info.run_id)
        return chosen.info.run_id


def top_level_runs(client: MlflowClient, experiment_id: str, dagster_run_id: str) -> list[Run]:
    """The live (not deleted) top-level runs tagged with the Dagster run."""
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"tags.{DAGSTER_RUN_TAG} = '{dagster_run_id}'",
        run_view_type=ViewType.ACTIVE_ONLY,
    )
    return [run for run in runs if PARENT_TAG not in run.data.tags]


def _converge(
    client: MlflowClient, experiment_id: str, dagster_run_id: str, claim_timeout_seconds: float
) -> Run | None:
    """The claimed run with the earliest claim, once every run seen has its claim (a run seen
    unclaimed for `claim_timeout_seconds` is deleted as abandoned); None if none is claimed."""
    first_seen: dict[str, float] = {}
    pause = 0.01
    while True:
        runs = top_level_runs(client, experiment_id, dagster_run_id)
        unclaimed = [run.info.run_id for run in runs if CLAIM_TAG not in run.data.tags]
        if not unclaimed:
            return min(runs, key=_rank, default=None)
        now = time.monotonic()
        for run_id in unclaimed:
            if now - first_seen.setdefault(run_id, now) >= claim_timeout_seconds:
                _discard_if_still_unclaimed(client, run_id)
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def _rank(run: Run) -> tuple[int, str]:
    return int(run.data.tags[CLAIM_TAG]), run.info.run_id


def _discard_if_still_unclaimed(client: MlflowClient, run_id: str) -> None:
    """Deletes a run its creator never claimed, unless the claim has just landed."""
    with contextlib.suppress(MlflowException):  # another step may have discarded it first
        if CLAIM_TAG not in client.get_run(run_id).data.tags:
            _discard(client, run_id, ABANDONED_TAG, "true")


def _discard(client: MlflowClient, run_id: str, tag: str, value: str) -> None:
    """Ends a run that is not the Dagster run's KILLED, says why, and deletes it (MLflow keeps
    deleted runs until `mlflow gc`, so the trace stays readable with a search for deleted
    runs)."""
    client.set_tag(run_id, tag, value)
    client.set_terminated(run_id, status=RunStatus.to_string(RunStatus.KILLED))
    client.delete_run(run_id)
