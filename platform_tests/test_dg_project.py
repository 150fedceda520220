"""The repo is a `dg` project: Dagster's own CLI loads, validates and lists its definitions."""

import json
import subprocess
import sys
from pathlib import Path

from dataplatform import definitions

REPO = Path(__file__).resolve().parents[1]
DG = Path(sys.executable).with_name("dg")


def dg(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DG), *args],
        cwd=REPO,
        env={"PATH": str(DG.parent), "HOME": str(home), "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_dg_check_defs_passes_from_the_repo_root(tmp_path: Path) -> None:
    checked = dg("check", "defs", home=tmp_path)

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_dg_list_defs_lists_every_definition_of_the_code_location(tmp_path: Path) -> None:
    listed = dg("list", "defs", "--json", "--target-path", "platform", home=tmp_path)

    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    defs = definitions.defs()
    assert {asset["asset_key"] for asset in found["assets"]} == {
        key.to_user_string() for key in defs.resolve_all_asset_keys()
    }
    assert {job["name"] for job in found["jobs"]} >= {job.name for job in defs.jobs}
    assert {s["name"] for s in found["schedules"]} == {s.name for s in defs.schedules}
    assert {s["name"] for s in found["sensors"]} == {s.name for s in defs.sensors}
