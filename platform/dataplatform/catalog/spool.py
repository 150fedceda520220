"""A local, append-only spool of metadata that could not be delivered, replayed in order.

Each batch is one JSON file in the file sink's format (a list of MCPs), named so that
lexical order is emission order, and written atomically. Replay sends the batches oldest
first and deletes each only after it was delivered, stopping at the first failure so that
nothing is skipped or sent out of order.
"""

import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from datahub.emitter.mcp import MetadataChangeProposalWrapper
from filelock import FileLock

MCP = MetadataChangeProposalWrapper
Send = Callable[[list[MCP]], None]


class Spool:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def append(self, mcps: list[MCP]) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        path = self.directory / name
        temporary = path.with_name(f".{name}.tmp")
        temporary.write_text(json.dumps([mcp.to_obj() for mcp in mcps]))
        os.replace(temporary, path)
        return path

    def pending(self) -> list[Path]:
        if not self.directory.exists():
            return []
        return sorted(self.directory.glob("[0-9]*.json"))

    def replay(self, send: Send) -> int:
        """Send every pending batch in order; returns how many were sent. Raises on failure."""
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        with FileLock(self.directory / ".replay.lock"):
            for batch in self.pending():
                send([MCP.from_obj_require_wrapper(obj) for obj in json.loads(batch.read_text())])
                batch.unlink()
                sent += 1
        return sent
