"""Exactly one top-level MLflow run per Dagster run, against a real local tracking store: step
processes racing to create it, a creation that lands late, a creator that died and one that
stalled."""

import multiprocessing
from collections.abc import Callable
from typing import Any

import pytest
from mlflow.entities import Run, ViewType
from mlflow.tracking import MlflowClient

from dataplatform.models.top_level_run import (
    ABANDONED_TAG,
    CLAIM_TAG,
    DAGSTER_RUN_TAG,
    DUPLICATE_TAG,
    top_level_run_id,
    top_level_runs,
)
from platform_tests.models.conftest import LocalMlflow
from platform_tests.models.racing import start_the_run

RACERS = 3


def experiment_id(local_mlflow: LocalMlflow) -> str:
    experiment = local_mlflow.client().get_experiment_by_name("tests")
    assert experiment is not None
    return experiment.experiment_id


def deleted_runs(local_mlflow: LocalMlflow, dagster_run_id: str) -> list[Run]:
    return list(
        local_mlflow.client().search_runs(
            [experiment_id(local_mlflow)],
            filter_string=f"tags.{DAGSTER_RUN_TAG} = '{dagster_run_id}'",
            run_view_type=ViewType.DELETED_ONLY,
        )
    )


def race(local_mlflow: LocalMlflow, every_racer_creates: bool) -> dict[int, str]:
    """RACERS processes start the run of Dagster run `raced` at once; their run ids by racer."""
    spawn = multiprocessing.get_context("spawn")  # no forked SQLite connections
    barrier = spawn.Barrier(RACERS, timeout=300)
    results = spawn.Queue()
    racers = [
        spawn.Process(
            target=start_the_run,
            args=(
                local_mlflow.tracking_uri,
                experiment_id(local_mlflow),
                "raced",
                barrier,
                every_racer_creates,
                index,
                results,
            ),
        )
        for index in range(RACERS)
    ]
    for racer in racers:
        racer.start()
    chosen = dict(results.get(timeout=600) for _ in racers)
    for racer in racers:
        racer.join(timeout=60)
        assert racer.exitcode == 0
    return chosen


@pytest.mark.parametrize("every_racer_creates", [True, False], ids=["all-create", "all-start"])
def test_steps_starting_at_once_in_separate_processes_share_exactly_one_run(
    local_mlflow: LocalMlflow, every_racer_creates: bool
) -> None:
    chosen = race(local_mlflow, every_racer_creates)

    [run] = top_level_runs(local_mlflow.client(), experiment_id(local_mlflow), "raced")
    assert set(chosen.values()) == {run.info.run_id}
    assert run.data.metrics == {f"racer_{index}": 1.0 for index in range(RACERS)}
    assert run.info.status == "RUNNING"  # the steps end it, not the race
    losers = deleted_runs(local_mlflow, "raced")
    if every_racer_creates:
        assert len(losers) == RACERS - 1
    assert all(loser.data.tags[DUPLICATE_TAG] == run.info.run_id for loser in losers)
    assert all(loser.info.status == "KILLED" and not loser.data.metrics for loser in losers)


class LateCreator(MlflowClient):
    """A step that searched before the other step's run existed, and whose own creation was
    slow to land: its run carries an earlier start time than the run already chosen."""

    def __init__(self, tracking_uri: str, start_time: int) -> None:
        super().__init__(tracking_uri=tracking_uri)
        self.start_time, self.searches = start_time, 0

    def search_runs(self, *args, **kwargs):
        self.searches += 1
        return [] if self.searches == 1 else super().search_runs(*args, **kwargs)

    def create_run(self, experiment_id: str, start_time=None, tags=None, run_name=None) -> Run:
        return super().create_run(experiment_id, self.start_time, tags, run_name)


def test_a_run_whose_creation_lands_after_another_was_chosen_loses_despite_an_earlier_start(
    local_mlflow: LocalMlflow,
) -> None:
    client = local_mlflow.client()
    first = top_level_run_id(client, experiment_id(local_mlflow), "raced", run_name="raced")
    started = client.get_run(first).info.start_time
    late = LateCreator(local_mlflow.tracking_uri, start_time=started - 60_000)

    chosen = top_level_run_id(late, experiment_id(local_mlflow), "raced", run_name="raced")

    assert chosen == first
    [run] = top_level_runs(client, experiment_id(local_mlflow), "raced")
    assert run.info.run_id == first
    [loser] = deleted_runs(local_mlflow, "raced")
    assert loser.info.start_time < started
    assert loser.data.tags[DUPLICATE_TAG] == first


def test_a_later_step_resumes_the_run_without_creating_one(local_mlflow: LocalMlflow) -> None:
    client = local_mlflow.client()
    first = top_level_run_id(client, experiment_id(local_mlflow), "raced", run_name="raced")

    assert top_level_run_id(client, experiment_id(local_mlflow), "raced", "raced") == first
    assert top_level_run_id(client, experiment_id(local_mlflow), "other", "other") != first
    assert deleted_runs(local_mlflow, "raced") == []


def test_a_run_whose_creator_died_before_claiming_it_is_waited_for_then_deleted(
    local_mlflow: LocalMlflow,
) -> None:
    client = local_mlflow.client()
    unclaimed = client.create_run(experiment_id(local_mlflow), tags={DAGSTER_RUN_TAG: "raced"})

    chosen = top_level_run_id(
        client, experiment_id(local_mlflow), "raced", "raced", claim_timeout_seconds=0.3
    )

    [run] = top_level_runs(client, experiment_id(local_mlflow), "raced")
    assert run.info.run_id == chosen != unclaimed.info.run_id
    assert CLAIM_TAG in run.data.tags
    [abandoned] = deleted_runs(local_mlflow, "raced")
    assert abandoned.info.run_id == unclaimed.info.run_id
    assert abandoned.data.tags[ABANDONED_TAG] == "true"
    assert abandoned.info.status == "KILLED"


class StalledBeforeClaiming(MlflowClient):
    """A step that stalls between creating its run and claiming it, long enough for another
    step to give up waiting, delete the run as abandoned and make its own."""

    def __init__(self, tracking_uri: str, meanwhile: Callable[[], str]) -> None:
        super().__init__(tracking_uri=tracking_uri)
        self.meanwhile = meanwhile
        self.other: str | None = None

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None):
        if key == CLAIM_TAG and self.other is None:
            self.other = self.meanwhile()
        return super().set_tag(run_id, key, value, synchronous)


def test_a_step_whose_run_was_deleted_as_abandoned_starts_over_and_adopts_the_other(
    local_mlflow: LocalMlflow,
) -> None:
    experiment = experiment_id(local_mlflow)
    stalled = StalledBeforeClaiming(
        local_mlflow.tracking_uri,
        meanwhile=lambda: top_level_run_id(
            local_mlflow.client(), experiment, "raced", "raced", claim_timeout_seconds=0.0
        ),
    )

    chosen = top_level_run_id(stalled, experiment, "raced", "raced")

    assert chosen == stalled.other
    [run] = top_level_runs(local_mlflow.client(), experiment, "raced")
    assert run.info.run_id == chosen
    assert [r.data.tags[ABANDONED_TAG] for r in deleted_runs(local_mlflow, "raced")] == ["true"]
