"""Latency from a file landing to its Parquet partition, under a running `dagster dev` daemon."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import markdown_table

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_SECONDS = 300


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(paths: Path, pattern: str, timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(paths.glob(pattern))
        if found:
            return found[0]
        time.sleep(0.25)
    raise TimeoutError(f"nothing matched {paths}/{pattern} within {timeout}s")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home, data = Path(tmp) / "home", Path(tmp) / "data"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {**os.environ, "DAGSTER_HOME": str(home), "DATAPLATFORM_DATA_DIR": str(data)}
        command = [Path(sys.executable).parent / "dagster", "dev", "-w", "workspace.yaml"]
        dev = subprocess.Popen(
            [*command, "-p", str(free_port())],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            time.sleep(20)  # webserver, code location and daemon up; sensors are on by default
            incoming = data / "landing" / "reviews"
            incoming.mkdir(parents=True, exist_ok=True)
            dropped = time.monotonic()
            (incoming / "latency.csv").write_text("text,rating\nquick,5\n")
            wait_for(data / "landed" / "reviews", "*.parquet", TIMEOUT_SECONDS)
            latency = time.monotonic() - dropped
        finally:
            os.killpg(dev.pid, signal.SIGTERM)
            dev.wait(timeout=60)
    print(
        markdown_table(
            ["measure", "seconds"], [["file dropped -> Parquet partition", f"{latency:.1f}"]]
        )
    )
    print(
        "\nMostly waiting: the sensor ticks every 15 s and needs two ticks with the same size"
        " and mtime before it requests a run; then the run is launched and converts the file."
    )


if __name__ == "__main__":
    main()
