"""Reads every worksheet of an xlsx workbook into one schema, the union of the sheets' columns."""

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Protocol

import openpyxl
import orjson
import pyarrow as pa
from openpyxl.workbook import Workbook

from dataplatform.landing.formats import limits
from dataplatform.landing.formats.casting import rejected_row
from dataplatform.landing.formats.conversion import Conversion
from dataplatform.landing.formats.errors import LandingFileError
from dataplatform.landing.formats.records import Row, cell_text, row_batches, text_columns
from dataplatform.landing.formats.schema import column_names, sampled_target


class _Worksheet(Protocol):
    """What is read of a read-only workbook's worksheet, whose class openpyxl keeps private."""

    @property
    def title(self) -> str: ...

    def iter_rows(self, *, values_only: bool) -> Iterator[tuple]: ...


@dataclass
class _Sheet:
    """A worksheet's header and, once the union of all headers is known, its aligned rows."""

    name: str
    header_row: int
    first: int  # the position of the first header cell
    names: list[str]
    cells: Iterator[tuple[int, tuple]]  # (Excel row number, cell values) after the header


def open_xlsx(
    path: Path, source_name: str, format: str, head: bytes, contract: pa.Schema | None
) -> Conversion:
    """Every worksheet with a header row; the schema is the union of their columns, a column a
    sheet lacks is null there. Empty worksheets and chart sheets are skipped."""
    if not head.startswith(b"PK\x03\x04"):
        raise LandingFileError(
            "not an xlsx workbook",
            format=format,
            location="byte 0",
            expected="a zip archive",
            found=f"{head[:8]!r}",
        )
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    # openpyxl reports a damaged archive as any of zipfile, XML, key or value errors.
    except Exception as error:
        raise LandingFileError(
            f"unreadable xlsx workbook: {error}", format=format, location="workbook"
        ) from error
    sheets = [sheet for sheet in map(_sheet, workbook.worksheets) if sheet is not None]
    if not sheets:
        raise LandingFileError(
            "no worksheet has data",
            format=format,
            location="workbook",
            found=str(workbook.sheetnames),
        )
    names = list(dict.fromkeys(name for sheet in sheets for name in sheet.names))
    rejects: list[dict] = []
    aligned = [_sheet_rows(sheet, names, source_name, rejects) for sheet in sheets]
    samples = [list(islice(rows, limits.SAMPLE_ROWS)) for rows in aligned]
    sample = list(chain.from_iterable(samples))
    target = sampled_target(
        names, text_columns(sample, len(names)), contract, format, source_name, rejects
    )
    rows = chain.from_iterable(chain(*pair) for pair in zip(samples, aligned, strict=True))
    return Conversion(
        format,
        None,
        target.schema,
        _closing(row_batches(rows, target), workbook),
        rejects,
        [sheet.name for sheet in sheets],
    )


def _sheet(worksheet: _Worksheet) -> _Sheet | None:
    """The worksheet's first non-empty row as its header, or None for an empty sheet."""
    rows = enumerate(_worksheet_rows(worksheet), start=1)
    for number, values in rows:
        filled = [position for position, value in enumerate(values) if value not in (None, "")]
        if filled:
            header = values[filled[0] : filled[-1] + 1]
            names = column_names(cell_text(value) for value in header)
            return _Sheet(worksheet.title, number, filled[0], names, rows)
    return None


def _worksheet_rows(worksheet: _Worksheet) -> Iterator[tuple]:
    try:
        yield from worksheet.iter_rows(values_only=True)
    # openpyxl reports a damaged sheet as any of zipfile, XML, key or value errors.
    except Exception as error:
        raise LandingFileError(
            f"unreadable worksheet: {error}", format="xlsx", location=f"sheet {worksheet.title!r}"
        ) from error


def _sheet_rows(
    sheet: _Sheet, names: list[str], source_name: str, rejects: list[dict]
) -> Iterator[Row]:
    """Rows aligned to the union of columns, numbered from the first row after the header; a row
    with values outside the header's columns is rejected."""
    positions = [names.index(name) for name in sheet.names]
    last = sheet.first + len(positions)
    for excel_row, values in sheet.cells:
        if all(value in (None, "") for value in values):
            continue
        number = excel_row - sheet.header_row
        texts = [cell_text(value) for value in values]
        outside = [text for text in texts[: sheet.first] + texts[last:] if text is not None]
        if outside:
            raw = orjson.dumps(texts).decode()
            reason = f"{len(outside)} values outside the header's columns"
            rejects.append(rejected_row(source_name, number, raw, reason, sheet.name))
            continue
        aligned: list[str | None] = [None] * len(names)
        for position, text in zip(positions, texts[sheet.first : last], strict=False):
            aligned[position] = text
        yield number, sheet.name, aligned


def _closing(batches: Iterator[pa.RecordBatch], workbook: Workbook) -> Iterator[pa.RecordBatch]:
    try:
        yield from batches
    finally:
        workbook.close()
