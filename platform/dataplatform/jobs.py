"""Jobs, selected by asset group, and the daily refresh schedule."""

from datetime import timedelta

import dagster as dg

from dataplatform.partitions import PARTITIONS_TIMEZONE, daily_partitions

DAILY_GROUPS = ("raw", "cleaned")

group_jobs = [
    dg.define_asset_job(f"{group}_job", selection=dg.AssetSelection.groups(group))
    for group in DAILY_GROUPS
]

daily_refresh_job = dg.define_asset_job(
    "daily_refresh",
    selection=dg.AssetSelection.groups(*DAILY_GROUPS),
    partitions_def=daily_partitions,
    description="Everything that refreshes once a day, for one day's partition.",
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
