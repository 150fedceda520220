"""Jobs, selected by asset group, and the daily refresh schedule."""

from datetime import timedelta

import dagster as dg

from dataplatform.cleaning.assets import landed_reviews_cleaning
from dataplatform.landing.datasets import TABULAR_DATASETS
from dataplatform.landing.knowledge_base import documents_knowledge_base
from dataplatform.models.recommender_assets import recommender
from dataplatform.models.sentiment_assets import sentiment_training_assets
from dataplatform.partitions import PARTITIONS_TIMEZONE, daily_partitions
from dataplatform.quality.assets import quality_assets
from dataplatform.quality.health import pipeline_health

DAILY_GROUPS = ("raw", "cleaned", "entities", "models", "quality")
# Landed files have their own (per-file) partitions and runs, requested by the sensors.
PER_FILE = dg.AssetSelection.assets(
    landed_reviews_cleaning,
    *(asset for asset in quality_assets if asset.partitions_def is not daily_partitions),
)
# Judges the runs of a whole day, so it runs once the day is over, on its own schedule.
AFTER_THE_DAY = dg.AssetSelection.assets(pipeline_health)
# Training reads the whole history: it runs when the retraining sensors ask, not every day.
TRAINING = dg.AssetSelection.assets(*sentiment_training_assets, recommender)
NOT_DAILY = PER_FILE | AFTER_THE_DAY | TRAINING

group_jobs = [
    dg.define_asset_job(f"{group}_job", selection=dg.AssetSelection.groups(group) - NOT_DAILY)
    for group in DAILY_GROUPS
]

daily_refresh_job = dg.define_asset_job(
    "daily_refresh",
    selection=dg.AssetSelection.groups(*DAILY_GROUPS) - NOT_DAILY,
    partitions_def=daily_partitions,
    description="Everything that refreshes once a day, for one day's partition.",
)

train_models_job = dg.define_asset_job(
    "train_models_job",
    selection=TRAINING,
    tags={"dagster/concurrency_key": "training"},  # one at a time (dagster.yaml)
    description="Train every model on the whole history and promote the better ones.",
)

pipeline_health_job = dg.define_asset_job(
    "pipeline_health_job",
    selection=AFTER_THE_DAY,
    partitions_def=daily_partitions,
    description="The pipeline-health report of one day's runs.",
)

# A file's run converts it and cleans it, where a per-file cleaned table follows; daily tables
# pick up its rows in their own runs.
landing_jobs = {
    dataset.name: dg.define_asset_job(
        f"land_{dataset.name}_job",
        selection=dg.AssetSelection.assets(dataset.key)
        .downstream()
        .required_multi_asset_neighbors()
        & (dg.AssetSelection.groups("landing") | PER_FILE),
        partitions_def=dataset.partitions,
        description="Convert one landed file (and clean it, where a cleaned table follows).",
    )
    for dataset in TABULAR_DATASETS
}

documents_job = dg.define_asset_job(
    "documents_job",
    selection=dg.AssetSelection.assets(documents_knowledge_base),
    description="Rebuild the documents knowledge base.",
)


def build_daily_refresh_schedule(
    at: str = "02:00", timezone: str = PARTITIONS_TIMEZONE
) -> dg.ScheduleDefinition:
    """Runs the daily refresh at `at` (HH:MM in `timezone`) for the day that just ended."""
    return build_previous_day_schedule(
        "daily_refresh_schedule", daily_refresh_job.name, at, timezone
    )


def build_pipeline_health_schedule(
    at: str = "00:30", timezone: str = PARTITIONS_TIMEZONE
) -> dg.ScheduleDefinition:
    """Reports on the day that just ended, shortly after it ends."""
    return build_previous_day_schedule(
        "pipeline_health_schedule", pipeline_health_job.name, at, timezone
    )


def build_previous_day_schedule(
    name: str, job_name: str, at: str, timezone: str
) -> dg.ScheduleDefinition:
    hour, minute = (int(part) for part in at.split(":"))

    @dg.schedule(
        name=name,
        job_name=job_name,
        cron_schedule=f"{minute} {hour} * * *",
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def previous_day(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
        return dg.RunRequest(run_key=day, partition_key=day)

    return previous_day
