"""Helpers shared by the benchmarks: a demo API process, child-process measurement, tables."""

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def demo_api_process(listens_per_day: int, seed: int = 42) -> Iterator[str]:
    """A demo API in its own process, so serving never competes with the client's GIL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dataplatform.demo_api",
            "--port",
            "0",
            "--seed",
            str(seed),
            "--listens-per-day",
            str(listens_per_day),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        if not line.startswith("DEMO_API_URL="):
            raise RuntimeError(f"demo API did not start: {line!r}")
        yield line.split("=", 1)[1]
    finally:
        process.terminate()
        process.wait(timeout=30)


def measure_in_child(module: str, *args: str) -> dict:
    """Run `python -m module args` in a fresh interpreter; it prints one JSON line of results."""
    output = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def timed(work: Callable[[], object]) -> dict:
    """Wall time and this process's peak RSS for one call, as a JSON-ready dict."""
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(seconds, 3), "peak_rss_mb": round(peak_mb, 1)}


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
