"""Both retraining triggers: new labelled reviews, and the champion degrading on fresh data."""

import json
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import pytest
from dagster._core.remote_origin import (
    InProcessCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from dataplatform.defs.models.retraining import build_retraining_sensors
from dataplatform.defs.models.sentiment_assets import (
    LABELLED_ROC_AUC,
    PREDICTIONS_KEY,
    REVIEWS_KEY,
    SENTIMENT_MODEL_KEY,
)

JOB = "train_models_job"
LANDED_REVIEWS_KEY = dg.AssetKey(["cleaned", "landed_reviews"])
new_reviews_sensor, degradation_sensor = build_retraining_sensors(JOB, roc_auc_threshold=0.8)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def materialise(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None = None, **metadata: float
) -> None:
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=key, partition=partition, metadata=metadata)
    )


@dataclass(frozen=True)
class Tick:
    requests: list[dg.RunRequest]
    cursor: str | None
    skip_reason: str | None


def tick(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None) -> Tick:
    result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
    assert isinstance(result, dg.SensorResult)
    skip_reason = result.skip_reason.skip_message if result.skip_reason else None
    return Tick(list(result.run_requests or []), result.cursor, skip_reason)


def test_new_reviews_request_one_training_run_then_wait_for_more(
    instance: dg.DagsterInstance,
) -> None:
    materialise(instance, REVIEWS_KEY, "2026-03-03")
    materialise(instance, LANDED_REVIEWS_KEY, "upload.csv")

    first = tick(new_reviews_sensor, instance, None)

    [request] = first.requests
    assert first.cursor is not None
    newest = json.loads(first.cursor)["after_storage_id"]
    assert request.run_key == f"new-reviews-{newest}"
    assert new_reviews_sensor.job_name == JOB
    assert not tick(new_reviews_sensor, instance, first.cursor).requests

    materialise(instance, REVIEWS_KEY, "2026-03-04")
    again = tick(new_reviews_sensor, instance, first.cursor)
    assert len(again.requests) == 1 and again.requests[0].run_key != request.run_key


def test_reviews_older_than_the_last_training_do_not_trigger(
    instance: dg.DagsterInstance,
) -> None:
    materialise(instance, REVIEWS_KEY, "2026-03-03")
    materialise(instance, SENTIMENT_MODEL_KEY)

    assert not tick(new_reviews_sensor, instance, None).requests


def queue_training(instance: dg.DagsterInstance, status: dg.DagsterRunStatus) -> dg.DagsterRun:
    """The run the daemon makes of a request, as the sensor finds it on its next tick."""
    # Dagster refuses a queued run that does not say which code location its job comes from.
    origin = RemoteJobOrigin(
        RemoteRepositoryOrigin(
            InProcessCodeLocationOrigin(LoadableTargetOrigin(python_file=__file__)),
            "__repository__",
        ),
        JOB,
    )
    return instance.add_run(dg.DagsterRun(job_name=JOB, status=status, remote_job_origin=origin))


@pytest.mark.parametrize("status", [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTED])
def test_a_burst_of_reviews_requests_one_training_while_it_is_queued_or_running(
    instance: dg.DagsterInstance, status: dg.DagsterRunStatus
) -> None:
    for upload in ("a.csv", "b.csv", "c.csv"):
        materialise(instance, LANDED_REVIEWS_KEY, upload)
    first = tick(new_reviews_sensor, instance, None)
    assert len(first.requests) == 1
    training = queue_training(instance, status)

    for upload in ("d.csv", "e.csv"):
        materialise(instance, LANDED_REVIEWS_KEY, upload)
        waiting = tick(new_reviews_sensor, instance, first.cursor)
        assert not waiting.requests
        assert waiting.cursor is None  # unchanged: these reviews are still to be trained on
        assert training.run_id in (waiting.skip_reason or "")

    instance.report_run_failed(training)
    [after] = tick(new_reviews_sensor, instance, first.cursor).requests
    assert after.run_key != first.requests[0].run_key


def train(instance: dg.DagsterInstance, reviews_land_meanwhile: bool = False) -> None:
    """A training run; with `reviews_land_meanwhile`, a reviews file lands after it started,
    so perhaps after it read its data."""

    @dg.asset(key=SENTIMENT_MODEL_KEY)
    def sentiment_model(context: dg.AssetExecutionContext) -> None:
        if reviews_land_meanwhile:
            materialise(context.instance, LANDED_REVIEWS_KEY, "during.csv")

    assert dg.materialize([sentiment_model], instance=instance).success


def test_reviews_landing_during_a_training_request_the_next_one(
    instance: dg.DagsterInstance,
) -> None:
    materialise(instance, REVIEWS_KEY, "2026-03-03")
    first = tick(new_reviews_sensor, instance, None)
    assert len(first.requests) == 1

    train(instance, reviews_land_meanwhile=True)

    [next_training] = tick(new_reviews_sensor, instance, first.cursor).requests
    assert next_training.run_key != first.requests[0].run_key


def test_reviews_before_a_training_started_are_not_trained_on_again(
    instance: dg.DagsterInstance,
) -> None:
    materialise(instance, REVIEWS_KEY, "2026-03-03")
    train(instance)

    assert not tick(new_reviews_sensor, instance, None).requests


def test_roc_auc_below_threshold_requests_training_once(instance: dg.DagsterInstance) -> None:
    materialise(instance, PREDICTIONS_KEY, "2026-03-03", **{LABELLED_ROC_AUC: 0.9})

    healthy = tick(degradation_sensor, instance, None)
    assert not healthy.requests and healthy.cursor is not None

    materialise(instance, PREDICTIONS_KEY, "2026-03-04", **{LABELLED_ROC_AUC: 0.6})
    degraded = tick(degradation_sensor, instance, healthy.cursor)

    [request] = degraded.requests
    assert request.tags["trigger"] == "degradation"
    assert request.tags[LABELLED_ROC_AUC] == "0.6000"
    assert not tick(degradation_sensor, instance, degraded.cursor).requests
