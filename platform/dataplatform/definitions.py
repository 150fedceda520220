"""The code location: every asset, check, job, schedule and resource, chosen in one place.

This is the only module that reads the environment. Each variable has a default that
runs everything on one machine (the embedded default); production overrides them.
"""

import os
from pathlib import Path

import dagster as dg

from dataplatform.cleaning.assets import cleaned_assets
from dataplatform.ingestion.assets import raw_assets
from dataplatform.jobs import build_daily_refresh_schedule, daily_refresh_job, group_jobs
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from dataplatform.resources.source_api import SourceApiClient

DEFAULT_API_URL = "http://127.0.0.1:8765"


def data_dir() -> str:
    return os.getenv("DATAPLATFORM_DATA_DIR", str(Path.cwd() / "data"))


def source_api() -> SourceApiClient:
    token = dg.EnvVar("DATAPLATFORM_API_TOKEN") if os.getenv("DATAPLATFORM_API_TOKEN") else None
    return SourceApiClient(
        base_url=os.getenv("DATAPLATFORM_API_URL", DEFAULT_API_URL),
        token=token,
        page_size=int(os.getenv("DATAPLATFORM_API_PAGE_SIZE", "1000")),
        concurrency=int(os.getenv("DATAPLATFORM_API_CONCURRENCY", "4")),
        max_attempts=int(os.getenv("DATAPLATFORM_API_MAX_ATTEMPTS", "6")),
        timeout_seconds=float(os.getenv("DATAPLATFORM_API_TIMEOUT_SECONDS", "30")),
    )


def resources() -> dict[str, object]:
    return {
        "io_manager": ParquetIOManager(base_path=data_dir()),
        "source_api": source_api(),
    }


defs = dg.Definitions(
    assets=[*raw_assets, *cleaned_assets],
    jobs=[daily_refresh_job, *group_jobs],
    schedules=[
        build_daily_refresh_schedule(
            at=os.getenv("DATAPLATFORM_SCHEDULE_TIME", "02:00"),
            timezone=os.getenv("DATAPLATFORM_TIMEZONE", "UTC"),
        )
    ],
    resources=resources(),
)
