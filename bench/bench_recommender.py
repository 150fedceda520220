"""Recommender training on 1,000,000 demo listens: time per step, peak memory, hold-out quality.

`python -m bench.bench_recommender [LISTENS]`: the demo API's generator builds LISTENS listens
(default 1,000,000: 50,000 a day for 20 days) in-process; a fresh interpreter then runs the
`models/recommender` asset's steps on them (split, fit on the training days, evaluate against
popularity, fit on everything, save the MLflow pyfunc) and scores one day's active users.
"""

import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import mlflow
import pandas as pd

from bench.common import markdown_table, measure_in_child
from dataplatform.defs.models.recommender_assets import PACKAGES, RecommenderModel
from dataplatform.demo_api import DemoApiConfig
from dataplatform.demo_api.generator import clean_listens
from dataplatform.models.recommender import evaluate, fit, recommend, split_by_time
from dataplatform.models.tracking import pip_requirements

DEFAULT_LISTENS = 1_000_000
DAYS = 20
HOLDOUT_DAYS = 3
FACTORS = 16


def recommender_demo_listens(total: int, days: int = DAYS) -> pd.DataFrame:
    """`total` listens over `days` days from the demo generator, typed like cleaned/listens."""
    config = DemoApiConfig.scaled(listens_per_day=total // days)
    frames = []
    for index in range(days):
        columns = clean_listens(config, index).columns
        frames.append(
            pd.DataFrame(
                {
                    "user_id": pd.array(columns["user_id"].values, dtype="Int64"),
                    "track_id": pd.array(columns["track_id"].values, dtype="Int64"),
                    "listened_at": pd.to_datetime(
                        columns["listened_at"].values, unit="s", utc=True
                    ),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def recommender_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def recommender_timed(
    steps: dict[str, list[float]], name: str, work: Callable[[], object]
) -> object:
    """Runs `work`, recording its wall and CPU seconds (the host's cores may be shared)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    steps[name] = [time.perf_counter() - wall, time.process_time() - cpu]
    return result


def recommender_training(total: int) -> dict:
    """The child's work: one JSON line of step times, memory and quality."""
    listens = recommender_demo_listens(total)
    rss_with_data = recommender_peak_rss_mb()
    steps: dict[str, list[float]] = {}
    train, holdout = recommender_timed(
        steps, "split by time", lambda: split_by_time(listens, HOLDOUT_DAYS)
    )
    candidate = recommender_timed(steps, "fit on training days", lambda: fit(train, FACTORS))
    evaluation = recommender_timed(
        steps, "evaluate (model + popularity)", lambda: evaluate(candidate, train, holdout)
    )
    model = recommender_timed(steps, "fit on all days", lambda: fit(listens, FACTORS))
    with tempfile.TemporaryDirectory() as folder:
        recommender_timed(
            steps,
            "save MLflow pyfunc",
            lambda: mlflow.pyfunc.save_model(
                str(Path(folder) / "model"),
                python_model=RecommenderModel(model),
                pip_requirements=pip_requirements(PACKAGES),
            ),
        )
    last_day = listens[listens["listened_at"] >= listens["listened_at"].max().normalize()]
    recommender_timed(steps, "recommend (one day's users)", lambda: recommend(model, last_day))
    return {
        "listens": len(listens),
        "users": len(model.user_ids),
        "tracks": len(model.track_ids),
        "day_users": int(last_day["user_id"].nunique()),
        "steps": steps,
        "rss_with_data_mb": round(rss_with_data, 1),
        "peak_rss_mb": round(recommender_peak_rss_mb(), 1),
        "metrics": evaluation.as_metrics(),
    }


def recommender_report(result: dict) -> str:
    steps = result["steps"]
    training = sum(wall for name, (wall, _) in steps.items() if not name.startswith("recommend"))
    rows = [
        [name, f"{wall:.2f}", f"{cpu:.2f}", f"{100 * wall / training:.0f}%"]
        for name, (wall, cpu) in steps.items()
    ]
    rows[-1][3] = "(not training)"
    table = markdown_table(["step", "wall seconds", "CPU seconds", "share of training"], rows)
    metrics = result["metrics"]
    quality = markdown_table(
        ["hold-out (last 3 days)", "precision@10", "recall@10"],
        [
            [
                "truncated SVD, 16 factors",
                f"{metrics['precision_at_10']:.4f}",
                f"{metrics['recall_at_10']:.4f}",
            ],
            [
                "popularity baseline",
                f"{metrics['popularity_precision_at_10']:.4f}",
                f"{metrics['popularity_recall_at_10']:.4f}",
            ],
        ],
    )
    return (
        f"{result['listens']:,} demo listens ({result['users']:,} users, {result['tracks']:,}"
        f" tracks, {DAYS} days); training (everything but the last row) took"
        f" {training:.1f} s, peak RSS {result['peak_rss_mb']:,.0f} MB"
        f" ({result['rss_with_data_mb']:,.0f} MB with only the listens loaded). Recommending"
        f" for one day's {result['day_users']:,} active users is the daily asset's work.\n\n"
        f"{table}\n\n{quality}\n\n"
        "Demo listeners play mostly their favourite genre (the generator's `TASTE_SHARE`), which"
        " the model learns and popularity cannot know."
    )


def main(arguments: list[str]) -> None:
    if arguments[:1] == ["--child"]:
        print(json.dumps(recommender_training(int(arguments[1]))))
        return
    total = int(arguments[0]) if arguments else DEFAULT_LISTENS
    print(recommender_report(measure_in_child("bench.bench_recommender", "--child", str(total))))


if __name__ == "__main__":
    main(sys.argv[1:])
