"""Where the command writes, and the small formatting helpers its tables share."""

import os
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

console = Console()


def relative(path: str) -> str:
    return os.path.relpath(path) if path.startswith(str(Path.cwd())) else path


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
