"""`make bench` (`python -m bench.run [module ...]`): run benchmarks, update bench/RESULTS.md.

With no argument every benchmark runs; with module names (e.g. `bench.bench_entities`) only
those run and only their sections of RESULTS.md are replaced.
"""

import datetime
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent
RESULTS = BENCH / "RESULTS.md"
BENCHMARKS = [
    ("Demo API serving rate", "bench.bench_demo_api"),
    ("Extraction of 1,000,000 listens", "bench.bench_extraction"),
    ("Parquet IO manager write, with and without lineage", "bench.bench_io_manager"),
    ("Landing: CSV to Parquet and peak memory", "bench.bench_landing"),
    ("Landing: sensor tick over a large archive", "bench.bench_landing_sensor"),
    ("Landing: latency under the running daemon", "bench.bench_landing_latency"),
    ("Models: sentiment training on 100,000 reviews", "bench.bench_models"),
    ("Models: sentiment on both classes and on real text", "bench.bench_sentiment_quality"),
    ("Recommender training on 1,000,000 listens", "bench.bench_recommender"),
    ("Quality: deepchecks integrity report, sampled and full", "bench.bench_quality"),
    ("Production: run launch and executors", "bench.bench_deployment"),
    ("CLI: runs launched through the code location", "bench.bench_cli_launch"),
    ("Daily refresh end to end at scale", "bench.bench_daily_refresh"),
    ("Per-step peak memory at 1,000,000 listens a day", "bench.bench_step_memory"),
    ("Entities: FEBRL3 against Splink, comparisons, 1,000,000 people", "bench.bench_entities"),
    ("Entities: people with known truth against Splink and ECM", "bench.bench_entity_benchmarks"),
    ("Mart: 1,000,000-listens days into DuckDB and PostgreSQL, 30 days", "bench.bench_mart"),
]


def main(modules: list[str]) -> None:
    unknown = set(modules) - {module for _, module in BENCHMARKS}
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    sections = previous_sections()
    for title, module in BENCHMARKS:
        if modules and module not in modules:
            continue
        print(f"== {title}", flush=True)
        output = subprocess.run(
            [sys.executable, "-m", module], capture_output=True, text=True, check=True
        ).stdout
        print(output, flush=True)
        sections[title] = f"`python -m {module}` ({datetime.date.today()})\n\n{output.strip()}"
    RESULTS.write_text(render(sections))


def previous_sections() -> dict[str, str]:
    if not RESULTS.exists():
        return {}
    parts = re.split(r"^## (.+)$", RESULTS.read_text(), flags=re.MULTILINE)
    return {
        title.strip(): body.strip() for title, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def render(sections: dict[str, str]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `make bench` (`python -m bench.run`) on {platform.machine()},"
        f" {os.cpu_count()} cores, Python {platform.python_version()}; each section names the"
        " command and the day it was measured. Every figure is measured in the same run as its"
        " baseline.",
    ]
    for title, _ in BENCHMARKS:
        if title in sections:
            lines += ["", f"## {title}", "", sections[title]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main(sys.argv[1:])
