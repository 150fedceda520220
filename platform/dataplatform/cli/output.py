"""Where the command writes, and the small formatting helpers its tables share."""

import os
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


def relative(path: str) -> str:
    return os.path.relpath(path) if path.startswith(str(Path.cwd())) else path


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
