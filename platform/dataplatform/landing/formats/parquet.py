"""Reads a Parquet file with its own column types, which a contract may only cast or contradict."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from dataplatform.landing.formats import limits
from dataplatform.landing.formats.casting import Target
from dataplatform.landing.formats.conversion import Conversion
from dataplatform.landing.formats.errors import LandingFileError
from dataplatform.landing.formats.schema import column_names, contract_types


def open_parquet(
    path: Path, source_name: str, format: str, head: bytes, contract: pa.Schema | None
) -> Conversion:
    """The file's own types; a contract only fails the file or casts its columns."""
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise LandingFileError(
            f"unreadable Parquet file: {error}",
            format=format,
            location="footer",
            expected="a Parquet file",
            found=f"{head[:4]!r} ...",
        ) from error
    file_schema = parquet.schema_arrow
    found = pa.schema(list(zip(column_names(file_schema.names), file_schema.types, strict=True)))
    types = found.types if contract is None else contract_types(found, contract, format, typed=True)
    rejects: list[dict] = []
    target = Target(found.names, types, source_name, rejects)
    return Conversion(format, None, target.schema, _parquet_batches(parquet, target), rejects)


def _parquet_batches(parquet: pq.ParquetFile, target: Target) -> Iterator[pa.RecordBatch]:
    start = 1
    try:
        for batch in parquet.iter_batches(batch_size=limits.BATCH_ROWS):
            numbers = np.arange(start, start + batch.num_rows, dtype=np.int64)
            start += batch.num_rows
            yield target.batch(batch.columns, numbers)
    except (pa.ArrowInvalid, OSError) as error:
        raise LandingFileError(
            f"unreadable Parquet data: {error}", format="parquet", location=f"row {start}"
        ) from error
