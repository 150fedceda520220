"""The Dagster instance the command uses: DAGSTER_HOME, or ./.dagster_home by default."""

import os
from pathlib import Path

import dagster as dg

from dataplatform.cli.abandoned_runs import fail_abandoned_runs
from dataplatform.cli.output import console
from dataplatform.settings import SettingsError

DEFAULT_HOME = ".dagster_home"
# A new local home's settings: no telemetry, and time for the code server to load on a busy
# machine (Dagster gives it 180 s; loading took longer on two cores at load average 18).
LOCAL_SETTINGS = "telemetry:\n  enabled: false\ncode_servers:\n  local_startup_timeout: 600\n"


def dagster_home() -> Path:
    """DAGSTER_HOME, checked: a folder that exists or can be made, and can be written."""
    given = os.environ.get("DAGSTER_HOME", "")
    home = Path(given or Path.cwd() / DEFAULT_HOME)
    shown = f"DAGSTER_HOME={given!r}" if given else f"the default Dagster home {str(home)!r}"
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SettingsError(f"{shown}: cannot be created ({error.strerror})") from None
    if not os.access(home, os.W_OK | os.X_OK):
        raise SettingsError(f"{shown}: cannot write there")
    return home


def local_instance() -> dg.DagsterInstance:
    """The instance in DAGSTER_HOME; a new home gets the embedded default (SQLite). Runs a
    killed process left STARTED are marked failed first, so no command shows them running."""
    home = dagster_home()
    settings = home / "dagster.yaml"
    if not settings.exists():
        settings.write_text(LOCAL_SETTINGS)
    instance = dg.DagsterInstance.from_config(str(home))
    for run_id in fail_abandoned_runs(instance):
        console.print(f"run {run_id} was left running by a killed process: marked failed")
    return instance
