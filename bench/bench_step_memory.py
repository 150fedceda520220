"""Each step's peak memory in its own process, as the multiprocess executor runs a scored day.

A demo API serves LISTENS listens a day (its dimensions scaled with the volume). On a fresh
data folder the previous day is refreshed and the models trained, so the measured day's
scoring steps score with champions; all three runs go through Dagster's multiprocess executor
(one spawned process per step). A hook added to every step reports that process's peak RSS
(`ru_maxrss`, the kernel's high-water mark, so no sample can miss it) after the step's
outputs are written. Seconds come from the event log; rows are the row counts the step's
materialisations report.
Usage: `python -m bench.bench_step_memory [listens per day] [steps]` (default 1,000,000 and
every step). `steps`, comma-separated op names of the daily refresh (e.g.
`raw__users,clean_users,resolve_users`), runs only those on both days and skips the training:
a quick reproduction of one step's peak.
"""

import importlib
import json
import os
import resource
import sys
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from bench.common import demo_api_process, markdown_table, measure_in_child

LISTENS = 1_000_000
DAY = date(2026, 3, 2)
LIMIT_MB = 2048
PEAK_MARKER = "step peak rss kb="
ROW_COUNT = "dagster/row_count"


def report_peak(context: dg.HookContext) -> None:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    context.log.info(f"{PEAK_MARKER}{peak_kb}")


@dg.success_hook
def peak_after_success(context: dg.HookContext) -> None:
    report_peak(context)


@dg.failure_hook
def peak_after_failure(context: dg.HookContext) -> None:
    report_peak(context)


def measured(job_name: str) -> dg.JobDefinition:
    from dataplatform import definitions  # the environment is set before any step imports it

    job = definitions.defs().resolve_job_def(job_name)
    return job.with_hooks({peak_after_success, peak_after_failure})


def measured_daily_refresh() -> dg.JobDefinition:
    """Top-level, so each step process can rebuild the job."""
    return measured("daily_refresh")


def measured_training() -> dg.JobDefinition:
    return measured("train_models_job")


def child(url: str, steps: str) -> None:
    """The previous day, a training, then the measured day, each on the multiprocess executor;
    with `steps` (comma-separated op names), only those steps of both days and no training."""
    this = importlib.import_module(__spec__.name)  # not __main__: step processes import it
    plan = [
        (this.measured_daily_refresh, DAY - timedelta(days=1)),
        (this.measured_training, None),
        (this.measured_daily_refresh, DAY),
    ]
    if steps:
        del plan[1]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            DATAPLATFORM_API_URL=url, DATAPLATFORM_DATA_DIR=tmp, DATAPLATFORM_DATAHUB_SINK="lite"
        )
        home = Path(tmp) / "dagster_home"
        home.mkdir()
        with dg.DagsterInstance.local_temp(tempdir=str(home)) as instance:
            runs = []
            for job_fn, day in plan:
                runs.append(run_steps(instance, job_fn, day, steps.split(",") if steps else None))
                print(json.dumps(runs[-1]), flush=True)  # progress, kept if a later run fails
    print(json.dumps(runs))


def run_steps(
    instance: dg.DagsterInstance,
    job_fn: Callable[[], dg.JobDefinition],
    day: date | None,
    steps: list[str] | None = None,
) -> dict:
    result = dg.execute_job(
        dg.reconstructable(job_fn),
        instance=instance,
        tags={"dagster/partition": day.isoformat()} if day else None,
        raise_on_error=False,
        asset_selection=step_assets(job_fn(), steps) if steps else None,
    )
    return {
        "job": result.job_def.name,
        "partition": day.isoformat() if day else None,
        "success": result.success,
        "steps": step_measures(instance, result.run_id),
    }


def step_assets(job: dg.JobDefinition, steps: list[str]) -> list[dg.AssetKey]:
    """Every asset the named steps (ops) of `job` materialise."""
    by_step = {
        assets.node_def.name: assets.keys
        for assets in job.asset_layer.asset_graph.assets_defs
        if assets.is_executable
    }
    unknown = sorted(set(steps) - set(by_step))
    if unknown:
        raise ValueError(f"no such steps in {job.name}: {unknown}; steps: {sorted(by_step)}")
    return [key for step in steps for key in by_step[step]]


def step_measures(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict]:
    """Per step that started: its process's peak MB, its seconds, the rows its
    materialisations report, and how it ended (a process that died reports nothing)."""
    steps: dict[str, dict] = {}
    started: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        step = entry.step_key
        if step is None:
            continue
        measure = steps.setdefault(step, {"peak_mb": None, "seconds": None, "rows": 0, "ok": None})
        event = entry.dagster_event
        if event is None:
            if entry.user_message.startswith(PEAK_MARKER):
                measure["peak_mb"] = round(int(entry.user_message[len(PEAK_MARKER) :]) / 1024)
        elif event.event_type == dg.DagsterEventType.STEP_START:
            started[step] = entry.timestamp
            measure["ok"] = "died"
        elif event.event_type in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
        ):
            measure["seconds"] = round(entry.timestamp - started[step], 1)
            measure["ok"] = (
                "yes" if event.event_type == dg.DagsterEventType.STEP_SUCCESS else "failed"
            )
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            rows = event.step_materialization_data.materialization.metadata.get(ROW_COUNT)
            measure["rows"] += rows.value if rows is not None else 0
    return {step: measure for step, measure in steps.items() if measure["ok"] is not None}


def peak_cell(peak_mb: int | None) -> str:
    if peak_mb is None:
        return "-"
    return f"**{peak_mb:,}**" if peak_mb > LIMIT_MB else f"{peak_mb:,}"


def steps_table(run: dict) -> str:
    by_peak = sorted(run["steps"].items(), key=lambda item: -(item[1]["peak_mb"] or 0))
    rows = [
        [
            step,
            peak_cell(measure["peak_mb"]),
            measure["seconds"] if measure["seconds"] is not None else "-",
            f"{measure['rows']:,}" if measure["rows"] else "-",
            measure["ok"] if measure["ok"] == "yes" else f"**{measure['ok']}**",
        ]
        for step, measure in by_peak
    ]
    return markdown_table(["step", "peak MB", "seconds", "rows", "ok"], rows)


def summary(run: dict) -> str:
    peaks = {step: m["peak_mb"] for step, m in run["steps"].items() if m["peak_mb"] is not None}
    over = [step for step, peak in peaks.items() if peak > LIMIT_MB]
    unmeasured = [step for step, measure in run["steps"].items() if measure["peak_mb"] is None]
    worst = max(peaks, key=peaks.__getitem__)
    return (
        f"{len(peaks)} steps measured; the largest {worst} at {peaks[worst]:,} MB, the smallest"
        f" {min(peaks.values()):,} MB (a step process's own start: Python, Dagster and the code"
        f" location); over {LIMIT_MB:,} MB: {', '.join(over) or 'none'}"
        f" (target: every step <= {LIMIT_MB:,} MB)"
        + (f"; died before reporting: {', '.join(unmeasured)}" if unmeasured else "")
        + "."
    )


def main(listens: int, steps: str) -> None:
    with demo_api_process(listens) as url:
        runs = measure_in_child(__spec__.name, "child", url, steps)
    print(
        f"{listens:,} listens a day; the peak RSS of each step's own process (multiprocess"
        " executor), largest first.\n"
    )
    previous_day, scored_day = runs[0], runs[-1]
    trained = len(runs) == 3
    titled = [
        (
            f"The scored day, {scored_day['partition']}"
            f" ({'models trained the day before' if trained else f'only {steps}'})",
            scored_day,
        ),
        (f"The day before, {previous_day['partition']} (first day: no champion yet)", previous_day),
    ]
    if trained:
        titled.append(("Training between them, on the day before's listens and reviews", runs[1]))
    for title, run in titled:
        print(f"{title}:\n\n{steps_table(run)}\n\n{summary(run)}\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child(sys.argv[2], sys.argv[3])
    else:
        main(int(sys.argv[1]) if sys.argv[1:] else LISTENS, sys.argv[2] if sys.argv[2:] else "")
