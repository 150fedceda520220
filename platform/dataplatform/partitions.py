"""The daily partitioning shared by every daily asset, schedule and job.

The calendar is read when this module is imported, unlike every other setting: partitions are
part of an asset's definition (the graph Dagster snapshots), and Dagster resolves `EnvVar` only
in resource and run config, so the calendar must be known before the assets exist.
"""

import dagster as dg

from dataplatform.settings import Calendar

CALENDAR = Calendar.from_environment()

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=CALENDAR.start_date.isoformat(), timezone=CALENDAR.timezone
)
