"""Where the command writes, and the small formatting helpers its tables share."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

# Wide enough that no table or line is ever wrapped: piped output is read by grep and scripts,
# which need each row on one line and paths whole.
PIPED_WIDTH = 10_000


def _console() -> Console:
    """A console fitted to the terminal, or unwrapped when the output is piped."""
    console = Console()
    if not console.is_terminal:
        console.width = PIPED_WIDTH
    return console


console = _console()


@contextmanager
def children_write_to(log: Path) -> Iterator[None]:
    """Processes started inside write their stdout and stderr to `log`, not the terminal.

    A code server, and the run workers it starts, inherit the command's output: everything a
    dependency prints in a step (warnings, INFO lines, progress bars) would reach the terminal
    between the command's own lines. Dagster captures each step's output in the run's compute
    logs all the same; it only mirrors it to its process's stderr, which this makes `log`.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    kept = {fd: os.dup(fd) for fd in (1, 2)}
    try:
        with log.open("ab") as target:
            for fd in kept:
                os.dup2(target.fileno(), fd)
        yield
    finally:
        for fd, original in kept.items():
            os.dup2(original, fd)
            os.close(original)


def relative(path: str) -> str:
    return os.path.relpath(path) if path.startswith(str(Path.cwd())) else path


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
