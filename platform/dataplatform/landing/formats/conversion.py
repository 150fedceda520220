"""A landed file's conversion: its schema and its batches, regrouped to row-group size and
converted one batch ahead of the consumer."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa

from dataplatform.landing.formats import limits


@dataclass
class Tally:
    """The rows read from a file as it is converted, and the sheets skipped whole with theirs."""

    read: int = 0
    skipped_sheets: dict[str, int] = field(default_factory=dict)


@dataclass
class Conversion:
    """A landed file being converted: its batches are read once, and fill `rejects` as they go."""

    format: str
    encoding: str | None
    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    rejects: list[dict] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    compression: str | None = None  # the archive the file came in: gzip or zip
    warnings: list[str] = field(default_factory=list)  # column type decisions worth knowing
    tally: Tally = field(default_factory=Tally)  # complete once the batches are read


def regrouped(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Batches of about BATCH_BYTES, none empty: each becomes a Parquet row group downstream, and
    small row groups are slow to write and to read."""
    group: list[pa.RecordBatch] = []
    size = 0
    for batch in batches:
        if batch.num_rows:
            group.append(batch)
            size += batch.nbytes
        if size >= limits.BATCH_BYTES:
            yield _combined(group)
            group, size = [], 0
    if group:
        yield _combined(group)


def _combined(group: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(group) == 1:
        return group[0]
    return pa.Table.from_batches(group).combine_chunks().to_batches()[0]


def read_ahead(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Convert the next batch in a worker thread while the consumer writes this one: pyarrow
    parses, casts and writes Parquet without the GIL, so the two overlap."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        pending = worker.submit(next, batches, None)
        while (batch := pending.result()) is not None:
            pending = worker.submit(next, batches, None)
            yield batch
