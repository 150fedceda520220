"""Both retraining triggers: new labelled reviews, and the champion degrading on fresh data."""

import json
from collections.abc import Iterator

import dagster as dg
import pytest

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


def tick(
    sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None
) -> dg.SensorResult:
    return sensor(dg.build_sensor_context(instance=instance, cursor=cursor))


def test_new_reviews_request_one_training_run_then_wait_for_more(
    instance: dg.DagsterInstance,
) -> None:
    materialise(instance, REVIEWS_KEY, "2026-03-03")
    materialise(instance, LANDED_REVIEWS_KEY, "upload.csv")

    first = tick(new_reviews_sensor, instance, None)

    [request] = first.run_requests
    newest = json.loads(first.cursor)["after_storage_id"]
    assert request.run_key == f"new-reviews-{newest}"
    assert new_reviews_sensor.job_name == JOB
    assert not tick(new_reviews_sensor, instance, first.cursor).run_requests

    materialise(instance, REVIEWS_KEY, "2026-03-04")
    again = tick(new_reviews_sensor, instance, first.cursor)
    assert len(again.run_requests) == 1 and again.run_requests[0].run_key != request.run_key


def test_reviews_older_than_the_last_training_do_not_trigger(
    instance: dg.DagsterInstance,
) -> None:
    materialise(instance, REVIEWS_KEY, "2026-03-03")
    materialise(instance, SENTIMENT_MODEL_KEY)

    assert not tick(new_reviews_sensor, instance, None).run_requests


def test_roc_auc_below_threshold_requests_training_once(instance: dg.DagsterInstance) -> None:
    materialise(instance, PREDICTIONS_KEY, "2026-03-03", **{LABELLED_ROC_AUC: 0.9})

    healthy = tick(degradation_sensor, instance, None)
    assert not healthy.run_requests and healthy.cursor is not None

    materialise(instance, PREDICTIONS_KEY, "2026-03-04", **{LABELLED_ROC_AUC: 0.6})
    degraded = tick(degradation_sensor, instance, healthy.cursor)

    [request] = degraded.run_requests
    assert request.tags["trigger"] == "degradation"
    assert request.tags[LABELLED_ROC_AUC] == "0.6000"
    assert not tick(degradation_sensor, instance, degraded.cursor).run_requests
