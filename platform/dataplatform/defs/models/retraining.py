"""When to retrain the models: new labelled reviews, or the champion degrading on fresh data.

Both triggers are sensors that request the training job (plain sensors rather than
declarative automation, so each trigger has its own cursor, run key and threshold):

- `retrain_on_new_reviews`: a materialisation of `cleaned/reviews` or `cleaned/landed_reviews`
  (reviews dropped in the landing zone) newer than both the cursor and the last
  `sentiment_model` materialisation requests one run, keyed by the newest storage id.
- `retrain_on_degradation`: each new `sentiment_predictions` partition reports the champion's
  ROC AUC on that day's rated reviews (their star ratings are fresh labels); below
  `roc_auc_threshold` it requests one run, keyed by that materialisation.
"""

import json
from dataclasses import asdict, dataclass
from typing import cast

import dagster as dg

from dataplatform.defs.models.sentiment_assets import (
    LABELLED_ROC_AUC,
    PREDICTIONS_KEY,
    REVIEWS_KEY,
    SENTIMENT_MODEL_KEY,
)

LABELLED_DATA_KEYS = (REVIEWS_KEY, dg.AssetKey(["cleaned", "landed_reviews"]))
DEFAULT_ROC_AUC_THRESHOLD = 0.75
MINIMUM_INTERVAL_SECONDS = 60
TRAIN_MODELS_JOB = "train_models_job"


@dataclass(frozen=True)
class StorageCursor:
    """The newest event-log storage id a sensor has looked at, as JSON."""

    after_storage_id: int = 0

    @classmethod
    def parse(cls, cursor: str | None) -> "StorageCursor":
        return cls(**json.loads(cursor)) if cursor else cls()

    def serialize(self) -> str:
        return json.dumps(asdict(self))


def materializations_after(
    instance: dg.DagsterInstance, key: dg.AssetKey, after_storage_id: int
) -> list[dg.EventLogRecord]:
    return list(
        instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, after_storage_id=after_storage_id),
            limit=1000,
            ascending=True,
        ).records
    )


def latest_storage_id(instance: dg.DagsterInstance, key: dg.AssetKey) -> int:
    records = instance.fetch_materializations(key, limit=1).records
    return records[0].storage_id if records else 0


def new_labelled_data(
    instance: dg.DagsterInstance, cursor: StorageCursor
) -> list[dg.EventLogRecord]:
    """Labelled-data materialisations newer than the cursor and than the last training."""
    since = max(cursor.after_storage_id, latest_storage_id(instance, SENTIMENT_MODEL_KEY))
    return [
        record
        for key in LABELLED_DATA_KEYS
        for record in materializations_after(instance, key, since)
    ]


def degraded(record: dg.EventLogRecord, threshold: float) -> float | None:
    """The reported ROC AUC if it is below `threshold`, else None."""
    metadata = record.asset_materialization.metadata if record.asset_materialization else {}
    roc_auc = metadata.get(LABELLED_ROC_AUC)
    if roc_auc is None:
        return None
    value = cast(float, roc_auc.value)  # sentiment_predictions writes it as a float
    return None if value >= threshold else value


def build_retraining_sensors(
    job_name: str, roc_auc_threshold: float = DEFAULT_ROC_AUC_THRESHOLD
) -> list[dg.SensorDefinition]:
    """Both retraining triggers, requesting the job named `job_name`."""

    @dg.sensor(
        name="retrain_on_new_reviews",
        job_name=job_name,
        minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Retrains when reviews (API or landed) arrived since the last training.",
    )
    def retrain_on_new_reviews(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursor = StorageCursor.parse(context.cursor)
        records = new_labelled_data(context.instance, cursor)
        if not records:
            return dg.SensorResult(skip_reason="no new labelled reviews since the last training")
        newest = max(record.storage_id for record in records)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(run_key=f"new-reviews-{newest}", tags={"trigger": "new_reviews"})
            ],
            cursor=StorageCursor(newest).serialize(),
        )

    @dg.sensor(
        name="retrain_on_degradation",
        job_name=job_name,
        minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Retrains when the champion's ROC AUC on a day's rated reviews falls below"
            f" {roc_auc_threshold}."
        ),
    )
    def retrain_on_degradation(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursor = StorageCursor.parse(context.cursor)
        records = materializations_after(context.instance, PREDICTIONS_KEY, cursor.after_storage_id)
        if not records:
            return dg.SensorResult(skip_reason="no new predictions")
        newest = StorageCursor(max(record.storage_id for record in records)).serialize()
        below = [record for record in records if degraded(record, roc_auc_threshold) is not None]
        if not below:
            return dg.SensorResult(
                skip_reason="champion ROC AUC at or above threshold", cursor=newest
            )
        # every record in `below` is degraded: its ROC AUC is not None
        worst = min(below, key=lambda record: cast(float, degraded(record, roc_auc_threshold)))
        roc_auc = degraded(worst, roc_auc_threshold)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"degraded-{worst.storage_id}",
                    tags={"trigger": "degradation", LABELLED_ROC_AUC: f"{roc_auc:.4f}"},
                )
            ],
            cursor=newest,
        )

    return [retrain_on_new_reviews, retrain_on_degradation]


retraining_sensors = build_retraining_sensors(TRAIN_MODELS_JOB)
