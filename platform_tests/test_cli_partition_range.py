"""Which partitions `dataplatform run` covers: the last days, a range, one day, or yesterday."""

import argparse
from datetime import date, timedelta

import dagster as dg
import pytest

from dataplatform.cli.errors import UsageError
from dataplatform.cli.partition_range import partitions_to_run

TODAY = date.today()


def run_args(**given: object) -> argparse.Namespace:
    return argparse.Namespace(
        **{"partition": None, "first": None, "last": None, "days": None, **given}
    )


def days_ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


@pytest.fixture
def calendar() -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=days_ago(10))


def test_days_are_the_last_complete_days_oldest_first(
    calendar: dg.DailyPartitionsDefinition,
) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        chosen = partitions_to_run(calendar, run_args(days=7), instance)

    assert chosen == [days_ago(days) for days in range(7, 0, -1)]


def test_more_days_than_the_calendar_holds_are_every_day_since_its_start(
    calendar: dg.DailyPartitionsDefinition,
) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        chosen = partitions_to_run(calendar, run_args(days=30), instance)

    assert chosen == [days_ago(days) for days in range(10, 0, -1)]


def test_days_on_an_unpartitioned_job_is_a_usage_error() -> None:
    with dg.DagsterInstance.ephemeral() as instance, pytest.raises(UsageError, match="--days"):
        partitions_to_run(None, run_args(days=7), instance)
