"""The `pipeline_health` asset: how the platform itself did on a day, from the Dagster instance."""

import dagster as dg
import pandas as pd

from dataplatform.partitions import daily_partitions
from dataplatform.quality.health import (
    pipeline_health_figures,
    summary_html,
    summary_markdown,
    with_failed_checks,
)
from dataplatform.quality.reports import ReportStore


@dg.asset(
    name="pipeline_health",
    key_prefix=["quality"],
    group_name="quality",
    partitions_def=daily_partitions,
    kinds={"parquet"},
    description="Run success rate, step durations, rows, freshness and failed checks of a day.",
)
def pipeline_health(
    context: dg.AssetExecutionContext, quality_reports: ReportStore
) -> dg.Output[pd.DataFrame]:
    window = context.partition_time_window
    health = pipeline_health_figures(context.instance, window.start, window.end)
    day = context.partition_key
    path = quality_reports.report_path(["pipeline_health"], day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(summary_html(health, day), encoding="utf-8")
    return dg.Output(
        with_failed_checks(health),
        metadata={
            "runs": len(health.todays_runs),
            "run_success_rate": health.success_rate if health.success_rate is not None else "n/a",
            "failed_checks": len(health.failed_checks),
            "summary": dg.MetadataValue.md(summary_markdown(health, day)),
            **quality_reports.links(str(path)),
        },
    )
