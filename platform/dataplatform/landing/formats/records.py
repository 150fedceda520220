"""Rows of cell text, from JSON records or worksheet cells, made into batches of the columns a
sample of them decides."""

import datetime
from collections.abc import Iterator
from itertools import chain, islice

import numpy as np
import orjson
import pyarrow as pa

from dataplatform.landing.formats import limits
from dataplatform.landing.formats.casting import Target, rejected_row
from dataplatform.landing.formats.conversion import Conversion, Tally
from dataplatform.landing.formats.schema import column_names, sampled_target

Row = tuple[int, str | None, list[str | None]]  # (row number, sheet, text of every column)


def records_conversion(
    format: str,
    encoding: str,
    records: Iterator[tuple[int, dict]],
    keys: list[str],
    source_name: str,
    rejects: list[dict],
    contract: pa.Schema | None,
    tally: Tally,
) -> Conversion:
    """Records become rows of the given keys; a record with a key the sample did not show is
    rejected, since the schema is decided before the rest is read."""
    rows = _record_rows(records, keys, source_name, rejects)
    sample = list(islice(rows, limits.SAMPLE_ROWS))
    names = column_names(keys)
    target = sampled_target(
        names, text_columns(sample, len(names)), contract, format, source_name, rejects
    )
    return Conversion(
        format,
        encoding,
        target.schema,
        row_batches(chain(sample, rows), target),
        rejects,
        warnings=target.warnings,
        tally=tally,
    )


def _record_rows(
    records: Iterator[tuple[int, dict]], keys: list[str], source_name: str, rejects: list[dict]
) -> Iterator[Row]:
    known = set(keys)
    for number, record in records:
        unknown = record.keys() - known
        if unknown:
            raw = orjson.dumps(record, default=str).decode()
            reason = f"fields not in the sampled schema: {', '.join(sorted(unknown))}"
            rejects.append(rejected_row(source_name, number, raw, reason))
        else:
            yield number, None, [cell_text(record.get(key)) for key in keys]


def cell_text(value: object) -> str | None:
    """A JSON or spreadsheet value as the text the type casts read."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def text_columns(rows: list[Row], width: int) -> list[pa.Array]:
    return [pa.array([texts[index] for _, _, texts in rows], pa.string()) for index in range(width)]


def row_batches(rows: Iterator[Row], target: Target) -> Iterator[pa.RecordBatch]:
    while chunk := list(islice(rows, limits.BATCH_ROWS)):
        numbers = np.array([number for number, _, _ in chunk], dtype=np.int64)
        sheets = [sheet for _, sheet, _ in chunk]
        yield target.batch(text_columns(chunk, len(target.names)), numbers, sheets)
