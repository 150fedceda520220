"""The schedules: the daily refresh, the day's pipeline-health report and the MLflow pull.

Each one runs a job as a unit at a set time, which is what a schedule is for; their times
come from the settings, so they are built when the code location loads.
"""

from datetime import timedelta

import dagster as dg

from dataplatform.defs.catalog.mlflow_ingestion import mlflow_to_datahub
from dataplatform.defs.jobs import daily_refresh_job, pipeline_health_job
from dataplatform.partitions import CALENDAR
from dataplatform.settings import PlatformSettings


def build_daily_refresh_schedule(
    at: str = "02:00", timezone: str = CALENDAR.timezone
) -> dg.ScheduleDefinition:
    """Runs the daily refresh at `at` (HH:MM in `timezone`) for the day that just ended."""
    return build_previous_day_schedule(
        "daily_refresh_schedule",
        daily_refresh_job.name,
        at,
        timezone,
        "Refreshes every daily asset",
    )


def build_pipeline_health_schedule(
    at: str = "00:30", timezone: str = CALENDAR.timezone
) -> dg.ScheduleDefinition:
    """Reports on the day that just ended, shortly after it ends."""
    return build_previous_day_schedule(
        "pipeline_health_schedule",
        pipeline_health_job.name,
        at,
        timezone,
        "Reports on the health of the day's runs",
    )


def build_previous_day_schedule(
    name: str, job_name: str, at: str, timezone: str, purpose: str
) -> dg.ScheduleDefinition:
    hour, minute = (int(part) for part in at.split(":"))

    # The UI's schedule page does not show which partition a tick runs: the description does.
    @dg.schedule(
        name=name,
        job_name=job_name,
        cron_schedule=f"{minute} {hour} * * *",
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"{purpose}: runs {job_name} daily at {at} ({timezone}) for the partition"
        " of the day that just ended.",
    )
    def previous_day(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
        return dg.RunRequest(run_key=day, partition_key=day)

    return previous_day


def build_catalog_schedule(
    job: dg.JobDefinition, at: str = "03:00", timezone: str = CALENDAR.timezone
) -> dg.ScheduleDefinition:
    """Runs `job` every day at `at` (HH:MM in `timezone`), after the daily refresh."""
    hour, minute = (int(part) for part in at.split(":"))
    return dg.ScheduleDefinition(
        name=f"{job.name}_schedule",
        job=job,
        cron_schedule=f"{minute} {hour} * * *",
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Runs {job.name} daily at {at} ({timezone}), after the daily refresh.",
    )


@dg.definitions
def schedules() -> dg.Definitions:
    settings = PlatformSettings.from_environment()
    return dg.Definitions(
        schedules=[
            build_daily_refresh_schedule(at=settings.schedule_time),
            build_pipeline_health_schedule(),
            build_catalog_schedule(mlflow_to_datahub, at=settings.catalog_schedule_time),
        ]
    )
