"""Reads a Parquet file with its own column types, which a contract may only cast or contradict."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dataplatform.landing.formats import limits
from dataplatform.landing.formats.casting import Target
from dataplatform.landing.formats.conversion import Conversion, Tally
from dataplatform.landing.formats.errors import LandingFileError
from dataplatform.landing.formats.schema import column_names, contract_types

MAGIC = b"PAR1"


def open_parquet(
    path: Path, source_name: str, format: str, head: bytes, contract: pa.Schema | None
) -> Conversion:
    """The file's own types; a contract only fails the file or casts its columns."""
    _check_magic(path, head, format)
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise LandingFileError(
            f"unreadable Parquet footer: {error}", format=format, location="footer"
        ) from error
    file_schema = parquet.schema_arrow
    found = pa.schema(list(zip(column_names(file_schema.names), file_schema.types, strict=True)))
    types = found.types if contract is None else contract_types(found, contract, format, typed=True)
    rejects: list[dict] = []
    target = Target(found.names, types, source_name, rejects)
    tally = Tally()
    batches = _parquet_batches(parquet, target, tally)
    return Conversion(format, None, target.schema, batches, rejects, tally=tally)


def _check_magic(path: Path, head: bytes, format: str) -> None:
    """A Parquet file starts and ends with `PAR1`; a missing end means it was cut short."""
    if not head.startswith(MAGIC):
        raise LandingFileError(
            "not a Parquet file",
            format=format,
            location="byte 0",
            expected=f"{MAGIC!r}",
            found=f"{head[:4]!r}",
        )
    size = path.stat().st_size
    with path.open("rb") as file:
        file.seek(max(size - len(MAGIC), 0))
        tail = file.read()
    if size < 2 * len(MAGIC) + 4 or tail != MAGIC:
        raise LandingFileError(
            "truncated Parquet file: it ends before its footer (cut short while copied?)",
            format=format,
            location=f"byte {size}",
            expected=f"the footer, ending with {MAGIC!r}",
            found=f"{tail!r} at the end",
        )


def _parquet_batches(
    parquet: pq.ParquetFile, target: Target, tally: Tally
) -> Iterator[pa.RecordBatch]:
    start = 1
    try:
        for batch in parquet.iter_batches(batch_size=limits.BATCH_ROWS):
            numbers = np.arange(start, start + batch.num_rows, dtype=np.int64)
            start += batch.num_rows
            tally.read += batch.num_rows
            yield target.batch(batch.columns, numbers)
    except (pa.ArrowInvalid, OSError) as error:
        raise LandingFileError(
            f"unreadable Parquet data: {error}", format="parquet", location=f"row {start}"
        ) from error
