import subprocess
import sys
from pathlib import Path

import pytest
from rich.table import Table

from dataplatform.cli import output


def test_a_piped_table_keeps_each_row_and_path_on_one_line(capsys) -> None:
    path = "/data/" + "/".join(f"folder_{index}" for index in range(30)) + "/2026-03-04.parquet"
    table = Table("asset", "path")
    table.add_row("cleaned/listens", path)

    output._console().print(table)

    assert any(path in line for line in capsys.readouterr().out.splitlines())


def test_processes_started_inside_write_to_the_log_and_the_terminal_is_given_back(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "logs" / "run_output.log"
    warn = "import warnings; print('progress 50%'); warnings.warn('a dependency warns')"

    with output.children_write_to(log):
        child = subprocess.Popen([sys.executable, "-c", warn])
    child.wait()
    print("the command's own line")

    out, err = capfd.readouterr()
    assert (out, err) == ("the command's own line\n", "")
    assert "progress 50%" in log.read_text()
    assert "UserWarning: a dependency warns" in log.read_text()
