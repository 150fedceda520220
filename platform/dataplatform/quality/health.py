"""Pipeline health: how the platform itself did on a day, read from the Dagster instance.

For the day of its partition (runs created that day, UTC as the calendar) and the
`HISTORY_DAYS` before it, it reads run storage and the event log: run success rate, step
durations against their previous average (the trend), rows written per asset against the
previous days' daily average, freshness (hours since each asset's last materialisation, at
the end of the day) and failed checks. The table has one row per asset; a Markdown summary
goes in the metadata and an HTML page with plots next to the quality reports.
"""

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

import dagster as dg
import pandas as pd

from dataplatform.quality.alerts import check_evaluation

if TYPE_CHECKING:
    from matplotlib.figure import Figure  # imported when plotting: it is slow to import

HISTORY_DAYS = 7
ROW_COUNT = "dagster/row_count"
FINISHED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
ASSET_COLUMNS = [
    "asset",
    "rows_today",
    "rows_daily_mean_before",
    "rows_ratio",
    "hours_since_materialization",
    "failed_checks_today",
]


@dataclass(frozen=True)
class Health:
    """The figures of one day, each as a table."""

    runs: pd.DataFrame  # run_id, job, status, created_at, duration_s, today
    steps: pd.DataFrame  # step, today_mean_s, before_mean_s, trend
    assets: pd.DataFrame  # ASSET_COLUMNS
    failed_checks: pd.DataFrame  # asset, check, severity, run_id

    @property
    def todays_runs(self) -> pd.DataFrame:
        return cast(pd.DataFrame, self.runs[self.runs["today"]])

    @property
    def success_rate(self) -> float | None:
        finished = self.todays_runs[self.todays_runs["status"].isin([s.value for s in FINISHED])]
        if finished.empty:
            return None
        return float((finished["status"] == dg.DagsterRunStatus.SUCCESS.value).mean())


def pipeline_health_figures(
    instance: dg.DagsterInstance, start: datetime, end: datetime, history_days: int = HISTORY_DAYS
) -> Health:
    """The health of runs created in [start, end), compared with the `history_days` before."""
    records = instance.get_run_records(
        dg.RunsFilter(created_after=start - timedelta(days=history_days), created_before=end)
    )
    runs = run_table(records, start)
    today_ids = set(runs.loc[runs["today"], "run_id"])
    return Health(
        runs=runs,
        steps=step_trend(instance, runs, history_days),
        assets=asset_table(instance, runs, end, history_days),
        failed_checks=failed_check_table(instance, [r for r in runs["run_id"] if r in today_ids]),
    )


def run_table(records: Sequence[dg.RunRecord], start: datetime) -> pd.DataFrame:
    rows = [
        {
            "run_id": record.dagster_run.run_id,
            "job": record.dagster_run.job_name,
            "status": record.dagster_run.status.value,
            "created_at": record.create_timestamp.astimezone(UTC),
            "duration_s": (record.end_time - record.start_time)
            if record.start_time and record.end_time
            else None,
        }
        for record in records
    ]
    runs = pd.DataFrame(rows, columns=["run_id", "job", "status", "created_at", "duration_s"])  # pyright: ignore[reportArgumentType]  # pandas' SequenceNotStr rejects list
    return runs.assign(today=(runs["created_at"] >= start).astype(bool))


def step_trend(instance: dg.DagsterInstance, runs: pd.DataFrame, history_days: int) -> pd.DataFrame:
    steps = pd.DataFrame(
        [
            {"step": stat.step_key, "today": today, "duration_s": stat.end_time - stat.start_time}
            for run_id, today in zip(runs["run_id"], runs["today"], strict=True)
            for stat in instance.get_run_step_stats(run_id)
            if stat.start_time and stat.end_time
        ],
        columns=["step", "today", "duration_s"],  # pyright: ignore[reportArgumentType]  # pandas' SequenceNotStr rejects list
    ).astype({"today": bool, "duration_s": float})
    today = cast(pd.Series, steps[steps["today"]].groupby("step")["duration_s"].mean())
    before = cast(pd.Series, steps[~steps["today"]].groupby("step")["duration_s"].mean())
    today, before = today.rename("today_mean_s"), before.rename("before_mean_s")
    trend = pd.concat([today, before], axis=1).reset_index(names="step")
    return trend.assign(trend=trend["today_mean_s"] / trend["before_mean_s"])


def asset_table(
    instance: dg.DagsterInstance, runs: pd.DataFrame, end: datetime, history_days: int
) -> pd.DataFrame:
    written = materialized_rows(instance, runs)
    today = cast(pd.Series, written[written["today"]].groupby("asset")["rows"].sum())
    before = (
        cast(pd.Series, written[~written["today"]].groupby("asset")["rows"].sum()) / history_days
    )
    keys = sorted(set(written["asset"]) | {k.to_user_string() for k in instance.get_asset_keys()})
    table = pd.DataFrame({"asset": keys})
    assets = cast(pd.Series, table["asset"])
    table["rows_today"] = assets.map(today).fillna(0).astype("int64")
    table["rows_daily_mean_before"] = assets.map(before).fillna(0.0)
    table["rows_ratio"] = table["rows_today"] / table["rows_daily_mean_before"].where(
        table["rows_daily_mean_before"] > 0
    )
    table["hours_since_materialization"] = [
        hours_since_materialization(instance, dg.AssetKey.from_user_string(k), end) for k in keys
    ]
    return table


def materialized_rows(instance: dg.DagsterInstance, runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for run_id, today in zip(runs["run_id"], runs["today"], strict=True):
        records = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        for record in records:
            materialization = record.asset_materialization
            assert materialization is not None  # the records are of ASSET_MATERIALIZATION type
            count = materialization.metadata.get(ROW_COUNT)
            rows.append(
                {
                    "asset": materialization.asset_key.to_user_string(),
                    "today": today,
                    "rows": int(cast(int, count.value)) if count is not None else 0,
                }
            )
    return pd.DataFrame(rows, columns=["asset", "today", "rows"]).astype(  # pyright: ignore[reportArgumentType]  # pandas' SequenceNotStr rejects list
        {"today": bool, "rows": "int64"}
    )


def hours_since_materialization(
    instance: dg.DagsterInstance, key: dg.AssetKey, end: datetime
) -> float | None:
    """Hours from the asset's last materialisation before `end` (or now, if earlier) to then."""
    moment = min(end, datetime.now(UTC))
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, before_timestamp=moment.timestamp()), limit=1
    ).records
    if not records:
        return None
    return round((moment.timestamp() - records[0].timestamp) / 3600, 3)


def failed_check_table(instance: dg.DagsterInstance, run_ids: list[str]) -> pd.DataFrame:
    rows = [
        {
            "asset": evaluation.asset_key.to_user_string(),
            "check": evaluation.check_name,
            "severity": evaluation.severity.value,
            "blocking": bool(evaluation.blocking),
            "run_id": run_id,
        }
        for run_id in run_ids
        for record in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ).records
        if not (evaluation := check_evaluation(record)).passed
    ]
    return pd.DataFrame(rows, columns=["asset", "check", "severity", "blocking", "run_id"])  # pyright: ignore[reportArgumentType]  # pandas' SequenceNotStr rejects list


def with_failed_checks(health: Health) -> pd.DataFrame:
    counts = cast(pd.Series, health.failed_checks.groupby("asset").size())
    failed = cast(pd.Series, health.assets["asset"]).map(counts).fillna(0).astype("int64")
    assets = health.assets.assign(failed_checks_today=failed)
    return cast(pd.DataFrame, assets[ASSET_COLUMNS])


def summary_markdown(health: Health, day: str) -> str:
    rate = health.success_rate
    runs = health.todays_runs
    lines = [
        f"**Pipeline health {day}**: {len(runs)} runs,"
        f" {int((runs['status'] == 'FAILURE').sum())} failed,"
        f" success rate {'n/a' if rate is None else f'{rate:.0%}'};"
        f" {len(health.failed_checks)} failed checks",
        "",
        health.steps.round(3).to_markdown(index=False),
    ]
    if not health.failed_checks.empty:
        lines += ["", health.failed_checks.to_markdown(index=False)]
    return "\n".join(lines)


def summary_html(health: Health, day: str) -> str:
    figures = "".join(
        f'<img alt="{title}" src="data:image/png;base64,{png}"/>'
        for title, png in [
            ("step durations", _png(_step_plot(health))),
            ("rows per asset", _png(_rows_plot(health))),
        ]
    )
    tables = with_failed_checks(health).to_html(index=False) + health.steps.to_html(index=False)
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"/><title>Pipeline health {day}</title>'
        f"</head><body><h1>Pipeline health {day}</h1><pre>{summary_markdown(health, day)}</pre>"
        f"{figures}{tables}{health.failed_checks.to_html(index=False)}</body></html>"
    )


def _step_plot(health: Health) -> "Figure":
    steps = cast(pd.DataFrame, health.steps.set_index("step")[["before_mean_s", "today_mean_s"]])
    return _bar_plot(steps.fillna(0.0), "mean step duration (s)")


def _rows_plot(health: Health) -> "Figure":
    assets = cast(
        pd.DataFrame, health.assets.set_index("asset")[["rows_daily_mean_before", "rows_today"]]
    )
    return _bar_plot(cast(pd.DataFrame, assets[assets.sum(axis=1) > 0]), "rows written")


def _bar_plot(bars: pd.DataFrame, label: str) -> "Figure":
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 1 + 0.3 * max(len(bars), 3)))
    axis = figure.subplots()
    if bars.empty:
        axis.text(0.5, 0.5, "nothing in this window", ha="center", va="center")
    else:
        bars.plot.barh(ax=axis)
    axis.set_xlabel(label)
    return figure


def _png(figure: "Figure") -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=80)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
