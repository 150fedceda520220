"""When to retrain the models: new labelled reviews, or the champion degrading on fresh data.

Both triggers are sensors that request the training job (plain sensors rather than
declarative automation, so each trigger has its own cursor, run key and threshold):

- `retrain_on_new_reviews`: a materialisation of `cleaned/reviews` or `cleaned/landed_reviews`
  (reviews dropped in the landing zone) newer than both the cursor and the start of the run
  that last materialised `sentiment_model` requests one run, keyed by the newest storage id.
  While a run of the training job is queued or running it waits: a burst of arrivals asks for
  one training, and reviews that land during it (which it may not have read) ask for the next.
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
UNFINISHED_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


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


def unfinished_runs(instance: dg.DagsterInstance, job_name: str) -> list[str]:
    """Ids of the job's runs that are queued, starting or running."""
    runs = instance.get_runs(dg.RunsFilter(job_name=job_name, statuses=UNFINISHED_STATUSES))
    return [run.run_id for run in runs]


def last_training_start(instance: dg.DagsterInstance) -> int:
    """The storage id at which the run behind the last `sentiment_model` materialisation
    started: labelled data stored before it was there for the training to read."""
    records = instance.fetch_materializations(SENTIMENT_MODEL_KEY, limit=1).records
    if not records:
        return 0
    [latest] = records
    if not latest.run_id:  # reported outside a run: the materialisation is all we know
        return latest.storage_id
    starts = instance.get_records_for_run(
        latest.run_id, of_type=dg.DagsterEventType.RUN_START, limit=1
    ).records
    return starts[0].storage_id if starts else latest.storage_id


def new_labelled_data(
    instance: dg.DagsterInstance, cursor: StorageCursor
) -> list[dg.EventLogRecord]:
    """Labelled-data materialisations newer than the cursor and than the last training's start."""
    since = max(cursor.after_storage_id, last_training_start(instance))
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
        in_flight = unfinished_runs(context.instance, job_name)
        if in_flight:
            # The cursor stays: these reviews ask for a training once this one has ended.
            return dg.SensorResult(
                skip_reason=f"{len(records)} new labelled-review materialisations wait for"
                f" training run {in_flight[0]} to finish"
            )
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
