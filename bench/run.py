"""`make bench`: run every benchmark and write their tables to bench/RESULTS.md."""

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent
BENCHMARKS = [
    ("Demo API serving rate", "bench_demo_api.py"),
    ("Extraction of 1,000,000 listens", "bench_extraction.py"),
    ("Parquet IO manager write", "bench_io_manager.py"),
]


def main() -> None:
    sections = [
        "# Benchmark results",
        "",
        f"Produced by `make bench` (`python bench/run.py`) on {datetime.date.today()},"
        f" {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "Every figure is measured in the same run as its baseline.",
    ]
    for title, script in BENCHMARKS:
        print(f"== {title}", flush=True)
        output = subprocess.run(
            [sys.executable, str(BENCH / script)], capture_output=True, text=True, check=True
        ).stdout
        print(output, flush=True)
        sections += ["", f"## {title}", "", f"`python bench/{script}`", "", output.strip()]
    (BENCH / "RESULTS.md").write_text("\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
