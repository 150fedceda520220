"""The daily schedule asks for the day that just ended, once per day."""

from datetime import UTC, datetime

import dagster as dg

from dataplatform.definitions import defs as load_defs
from dataplatform.defs.schedules import build_daily_refresh_schedule


def requested(schedule: dg.ScheduleDefinition, at: datetime) -> dg.RunRequest:
    context = dg.build_schedule_context(
        scheduled_execution_time=at, repository_def=load_defs().get_repository_def()
    )
    return schedule.evaluate_tick(context).run_requests[0]


def test_default_schedule_runs_at_two_utc_for_the_previous_day() -> None:
    schedule = load_defs().resolve_schedule_def("daily_refresh_schedule")

    request = requested(schedule, datetime(2026, 3, 5, 2, 0, tzinfo=UTC))

    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"
    assert request.partition_key == "2026-03-04"
    assert request.run_key == "2026-03-04"


def test_schedule_time_and_timezone_are_configurable() -> None:
    schedule = build_daily_refresh_schedule(at="23:30", timezone="America/New_York")

    assert schedule.cron_schedule == "30 23 * * *"
    assert schedule.execution_timezone == "America/New_York"
