"""The whole daily refresh at three volumes, and day 30 of a history against day 1.

Each measurement runs in a fresh interpreter against a demo API in its own process, with
the platform's real resources on a temporary data folder (Parquet, DataHub Lite lineage,
a local MLflow store), so wall time and peak RSS are the refresh's own. Every step's share
of the time comes from the run's own event log.
Usage: `python -m bench.bench_daily_refresh [volume ...]` (listens per day; default
10,000 100,000 1,000,000), with DATAPLATFORM_BENCH_HISTORY_DAYS (default 30) for the
history.
"""

import json
import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta

import dagster as dg

from bench.common import demo_api_process, markdown_table, measure_in_child
from dataplatform.defs.resources import platform_resources
from dataplatform.settings import PlatformSettings

FIRST_DAY = date(2026, 3, 1)
VOLUMES = (10_000, 100_000, 1_000_000)
HISTORY_VOLUME = 10_000
TRAINING_JOB = "train_models_job"


def child(url: str, first_day: str, days: int, scored: bool = False) -> None:
    """Refresh `days` consecutive days, then train once; `scored`: refresh and train the day
    before the first measured day, so that the measured refresh also scores with champions."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            DATAPLATFORM_API_URL=url, DATAPLATFORM_DATA_DIR=tmp, DATAPLATFORM_DATAHUB_SINK="lite"
        )
        from dataplatform import definitions  # reads the environment set just above

        start = date.fromisoformat(first_day)
        runs = []
        with dg.DagsterInstance.ephemeral() as instance:
            if scored:
                timed_run(
                    definitions, instance, "daily_refresh", (start - timedelta(days=1)).isoformat()
                )
                timed_run(definitions, instance, TRAINING_JOB, None)
            for offset in range(days):
                day = (start + timedelta(days=offset)).isoformat()
                runs.append(timed_run(definitions, instance, "daily_refresh", day))
            job_names = {job.name for job in definitions.defs().resolve_all_job_defs()}
            training = (
                timed_run(definitions, instance, TRAINING_JOB, None)
                if TRAINING_JOB in job_names
                else None
            )
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"runs": runs, "training": training, "peak_rss_mb": round(peak_mb)}))


def timed_run(
    definitions, instance: dg.DagsterInstance, job_name: str, partition: str | None
) -> dict:
    job = definitions.defs().resolve_job_def(job_name)
    started = time.perf_counter()
    result = job.execute_in_process(
        partition_key=partition,
        instance=instance,
        resources=platform_resources(PlatformSettings.from_environment()),
        raise_on_error=False,
    )
    seconds = time.perf_counter() - started
    return {
        "job": job_name,
        "partition": partition,
        "success": result.success,
        "seconds": round(seconds, 2),
        "steps": step_seconds(instance, result.run_id),
    }


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    started: dict[str, float] = {}
    durations: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = entry.timestamp
        elif event.event_type in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
        ):
            durations[event.step_key] = round(entry.timestamp - started[event.step_key], 2)
    return durations


def refresh(listens: int, days: int) -> dict:
    with demo_api_process(listens) as url:
        return measure_in_child(__spec__.name, "child", url, FIRST_DAY.isoformat(), str(days))


def scale_table(volumes: list[int]) -> tuple[str, dict[int, dict]]:
    results = {volume: refresh(volume, 1) for volume in volumes}
    rows = []
    previous = None
    for volume, result in results.items():
        [run] = result["runs"]
        training = result["training"]
        total = run["seconds"] + (training["seconds"] if training else 0)
        growth = (
            f"{total / previous[0]:.1f}x time, {result['peak_rss_mb'] / previous[1]:.1f}x memory"
            f" for {volume / previous[2]:.0f}x volume"
            if previous
            else "-"
        )
        ok = run["success"] and (training is None or training["success"])
        rows.append(
            [
                f"{volume:,}",
                run["seconds"],
                training["seconds"] if training else "-",
                round(total, 1),
                result["peak_rss_mb"],
                "yes" if ok else "**FAILED**",
                growth,
            ]
        )
        previous = (total, result["peak_rss_mb"], volume)
    header = ["listens/day", "refresh s", "training s", "total s", "peak RSS MB", "ok", "growth"]
    return markdown_table(header, rows), results


def shares_table(result: dict) -> str:
    steps = dict(result["runs"][0]["steps"])
    if result["training"]:
        steps.update(result["training"]["steps"])
    total = sum(steps.values()) or 1.0
    rows = [
        [step, seconds, f"{100 * seconds / total:.1f}%"]
        for step, seconds in sorted(steps.items(), key=lambda item: -item[1])
    ]
    return markdown_table(["step", "seconds", "share"], rows)


def history_table(days: int) -> str:
    result = refresh(HISTORY_VOLUME, days)
    runs = result["runs"]
    first, last = runs[0]["seconds"], runs[-1]["seconds"]
    failed = [run["partition"] for run in runs if not run["success"]]
    lines = [
        markdown_table(
            ["day", "partition", "seconds"],
            [
                [i + 1, run["partition"], run["seconds"]]
                for i, run in enumerate(runs)
                if i in (0, 1, days // 2, days - 1)
            ],
        ),
        "",
        f"Day {days} / day 1 at {HISTORY_VOLUME:,} listens a day: **{last / first:.2f}x**"
        " (target <= 1.3x)" + (f"; failed days: {', '.join(failed)}" if failed else ""),
    ]
    return "\n".join(lines)


def scored_day(volume: int) -> str:
    """One day's refresh with trained champions, so its scoring steps really score."""
    with demo_api_process(volume) as url:
        result = measure_in_child(__spec__.name, "child", url, FIRST_DAY.isoformat(), "1", "scored")
    [run] = result["runs"]
    scoring = {step: s for step, s in run["steps"].items() if step.startswith("models__")}
    rows = [
        [f"{volume:,}", run["seconds"], *scoring.values(), result["peak_rss_mb"], run["success"]]
    ]
    header = ["listens/day", "refresh s (with scoring)", *scoring, "peak RSS MB", "ok"]
    return "\n\n".join(
        [
            markdown_table(header, rows),
            "Each step's share of that day:",
            shares_table({**result, "training": None}),
        ]
    )


def main(volumes: list[int]) -> None:
    days = int(os.getenv("DATAPLATFORM_BENCH_HISTORY_DAYS", "30"))
    table, results = scale_table(volumes)
    print(table)
    largest = max(results)
    print(f"\nEach step's share of the time at {largest:,} listens a day:\n")
    print(shares_table(results[largest]))
    print(f"\nA {days}-day history, refreshed day by day:\n")
    print(history_table(days))


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), scored=sys.argv[5:6] == ["scored"])
    elif sys.argv[1:2] == ["--scored"]:
        print(scored_day(int(sys.argv[2])))
    else:
        main([int(arg) for arg in sys.argv[1:]] or list(VOLUMES))
