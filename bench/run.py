"""`make bench` (`python -m bench.run`): run every benchmark, write bench/RESULTS.md."""

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent
BENCHMARKS = [
    ("Demo API serving rate", "bench.bench_demo_api"),
    ("Extraction of 1,000,000 listens", "bench.bench_extraction"),
    ("Parquet IO manager write, with and without lineage", "bench.bench_io_manager"),
    ("Landing: CSV to Parquet and peak memory", "bench.bench_landing"),
    ("Landing: sensor tick over a large archive", "bench.bench_landing_sensor"),
    ("Landing: latency under the running daemon", "bench.bench_landing_latency"),
]


def main() -> None:
    sections = [
        "# Benchmark results",
        "",
        f"Produced by `make bench` (`python -m bench.run`) on {datetime.date.today()},"
        f" {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "Every figure is measured in the same run as its baseline.",
    ]
    for title, module in BENCHMARKS:
        print(f"== {title}", flush=True)
        output = subprocess.run(
            [sys.executable, "-m", module], capture_output=True, text=True, check=True
        ).stdout
        print(output, flush=True)
        sections += ["", f"## {title}", "", f"`python -m {module}`", "", output.strip()]
    (BENCH / "RESULTS.md").write_text("\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
