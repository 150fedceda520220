"""The daily partitioning shared by every daily asset, schedule and job."""

import os

import dagster as dg

# The first day of data; read at import because partitions are part of the asset graph.
PARTITIONS_START_DATE = os.getenv("DATAPLATFORM_START_DATE", "2026-01-01")
PARTITIONS_TIMEZONE = os.getenv("DATAPLATFORM_TIMEZONE", "UTC")

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START_DATE, timezone=PARTITIONS_TIMEZONE
)
