"""Jobs, selected by asset group, and the daily refresh schedule."""

from datetime import timedelta

import dagster as dg

from dataplatform.cleaning.assets import landed_reviews_cleaning
from dataplatform.landing.datasets import TABULAR_DATASETS
from dataplatform.landing.knowledge_base import documents_knowledge_base
from dataplatform.partitions import PARTITIONS_TIMEZONE, daily_partitions

DAILY_GROUPS = ("raw", "cleaned")
# Landed files have their own (per-file) partitions and runs, requested by the sensors.
PER_FILE = dg.AssetSelection.assets(landed_reviews_cleaning)

group_jobs = [
    dg.define_asset_job(f"{group}_job", selection=dg.AssetSelection.groups(group) - PER_FILE)
    for group in DAILY_GROUPS
]

daily_refresh_job = dg.define_asset_job(
    "daily_refresh",
    selection=dg.AssetSelection.groups(*DAILY_GROUPS) - PER_FILE,
    partitions_def=daily_partitions,
    description="Everything that refreshes once a day, for one day's partition.",
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
    hour, minute = (int(part) for part in at.split(":"))

    @dg.schedule(
        name="daily_refresh_schedule",
        job=daily_refresh_job,
        cron_schedule=f"{minute} {hour} * * *",
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def daily_refresh_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        previous_day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
        return dg.RunRequest(run_key=previous_day, partition_key=previous_day)

    return daily_refresh_schedule
