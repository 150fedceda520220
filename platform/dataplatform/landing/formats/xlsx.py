"""Reads every worksheet of an xlsx workbook into one schema, the union of the sheets' columns."""

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice, repeat, starmap
from pathlib import Path
from typing import Protocol

import openpyxl
import orjson
import pyarrow as pa
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook

from dataplatform.landing.formats import limits
from dataplatform.landing.formats.casting import rejected_row
from dataplatform.landing.formats.conversion import Conversion, Tally
from dataplatform.landing.formats.errors import LandingFileError
from dataplatform.landing.formats.records import Row, cell_text, row_batches, text_columns
from dataplatform.landing.formats.schema import column_names, sampled_target

FORMULA = re.compile(rb"<f[ >/]")


class _Worksheet(Protocol):
    """What is read of a read-only workbook's worksheet, whose class openpyxl keeps private."""

    @property
    def title(self) -> str: ...

    def iter_rows(self, *, values_only: bool) -> Iterator[tuple]: ...


@dataclass
class _Sheet:
    """A worksheet's header and, once the union of all headers is known, its aligned rows."""

    name: str
    first: int  # the position of the first header cell
    names: list[str]
    # (Excel row number, (cached values, cells as written)) after the header
    cells: Iterator[tuple[int, tuple[tuple, tuple]]]


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
    workbook = _load(path, format, cached_values=True)
    # A formula cell keeps its last calculated value only if the program that saved the workbook
    # calculated it: the formulas themselves tell an uncalculated cell from an empty one.
    formulas = _load(path, format, cached_values=False) if _has_formulas(path) else None
    written = formulas.worksheets if formulas else repeat(None)
    pairs = zip(workbook.worksheets, written, strict=False)
    sheets = [sheet for sheet in starmap(_sheet, pairs) if sheet is not None]
    # Empty worksheets and chart sheets: no rows, but reported.
    read = {sheet.name for sheet in sheets}
    tally = Tally(skipped_sheets={name: 0 for name in workbook.sheetnames if name not in read})
    if not sheets:
        raise LandingFileError(
            "no worksheet has data",
            format=format,
            location="workbook",
            found=str(workbook.sheetnames),
        )
    names = list(dict.fromkeys(name for sheet in sheets for name in sheet.names))
    rejects: list[dict] = []
    aligned = [_sheet_rows(sheet, names, source_name, rejects, tally) for sheet in sheets]
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
        _closing(row_batches(rows, target), workbook, formulas),
        rejects,
        [sheet.name for sheet in sheets],
        warnings=target.warnings,
        tally=tally,
    )


def _load(path: Path, format: str, *, cached_values: bool) -> Workbook:
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=cached_values)
    # openpyxl reports a damaged archive as any of zipfile, XML, key or value errors.
    except Exception as error:
        raise LandingFileError(
            f"unreadable xlsx workbook: {error}", format=format, location="workbook"
        ) from error


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet's XML holds a formula element (`<f>`, `<f .../>`)."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with archive.open(name) as part:
                    tail = b""
                    while chunk := part.read(1 << 20):
                        if FORMULA.search(tail + chunk):
                            return True
                        tail = chunk[-3:]
    return False


def _sheet(worksheet: _Worksheet, formulas: _Worksheet | None) -> _Sheet | None:
    """The worksheet's first non-empty row as its header, or None for an empty sheet."""
    rows = enumerate(_worksheet_rows(worksheet, formulas), start=1)
    for _, (values, _written) in rows:
        filled = [position for position, value in enumerate(values) if value not in (None, "")]
        if filled:
            header = values[filled[0] : filled[-1] + 1]
            names = column_names(cell_text(value) for value in header)
            return _Sheet(worksheet.title, filled[0], names, rows)
    return None


def _worksheet_rows(
    worksheet: _Worksheet, formulas: _Worksheet | None
) -> Iterator[tuple[tuple, tuple]]:
    """Each row's cached values, with its cells as written (formulas as text) where the workbook
    has formulas, else with no cells."""
    try:
        values = worksheet.iter_rows(values_only=True)
        written = repeat(()) if formulas is None else formulas.iter_rows(values_only=True)
        yield from zip(values, written, strict=False)
    # openpyxl reports a damaged sheet as any of zipfile, XML, key or value errors.
    except Exception as error:
        raise LandingFileError(
            f"unreadable worksheet: {error}", format="xlsx", location=f"sheet {worksheet.title!r}"
        ) from error


def _sheet_rows(
    sheet: _Sheet, names: list[str], source_name: str, rejects: list[dict], tally: Tally
) -> Iterator[Row]:
    """Rows aligned to the union of columns, numbered as Excel numbers them; a row with values
    outside the header's columns, or a formula never calculated, is rejected."""
    positions = [names.index(name) for name in sheet.names]
    last = sheet.first + len(positions)
    for number, (values, written) in sheet.cells:
        uncalculated = _uncalculated(values, written, sheet)
        if all(value in (None, "") for value in values) and not uncalculated:
            continue
        tally.read += 1
        texts = [cell_text(value) for value in values]
        outside = [text for text in texts[: sheet.first] + texts[last:] if text is not None]
        reasons = [f"{len(outside)} values outside the header's columns"] if outside else []
        reasons += uncalculated
        if reasons:
            raw = orjson.dumps(texts).decode()
            rejects.append(rejected_row(source_name, number, raw, "; ".join(reasons), sheet.name))
            continue
        aligned: list[str | None] = [None] * len(names)
        for position, text in zip(positions, texts[sheet.first : last], strict=False):
            aligned[position] = text
        yield number, sheet.name, aligned


def _uncalculated(values: tuple, written: tuple, sheet: _Sheet) -> list[str]:
    """A reason per formula cell that has no cached value to land."""
    return [
        f"{_column(position, sheet)}: formula {cell!s} has no calculated value (the program that"
        " saved the workbook did not calculate it)"
        for position, (value, cell) in enumerate(zip(values, written, strict=False))
        if value is None and cell is not None
    ]


def _column(position: int, sheet: _Sheet) -> str:
    index = position - sheet.first
    name = sheet.names[index] if 0 <= index < len(sheet.names) else "outside the header"
    return f"{name} ({get_column_letter(position + 1)})"


def _closing(
    batches: Iterator[pa.RecordBatch], *workbooks: Workbook | None
) -> Iterator[pa.RecordBatch]:
    try:
        yield from batches
    finally:
        for workbook in workbooks:
            if workbook is not None:
                workbook.close()
