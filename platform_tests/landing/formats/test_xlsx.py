"""Every worksheet of a workbook lands in one schema; a corrupt or empty workbook fails."""

import datetime
from pathlib import Path

import openpyxl
import pyarrow as pa
from openpyxl.chart import BarChart, Reference

from platform_tests.landing.formats.landed_files import (
    LISTENS_CSV,
    convert,
    file_error,
    landed,
    with_cached_values,
)


def write_workbook(path: Path) -> None:
    workbook = openpyxl.Workbook()
    plays = workbook.active
    plays.title = "Plays"
    plays.append(["Track Id", "Plays", "Played At", "Liked"])
    plays.append([1, 10, datetime.datetime(2026, 3, 4, 10), True])
    plays.append([])
    plays.append([2, "many", datetime.datetime(2026, 3, 5, 11), False])
    plays.append([3, 30, datetime.datetime(2026, 3, 6, 12), None, "stray"])
    workbook.create_sheet("Empty")
    notes = workbook.create_sheet("Notes")
    notes["B2"], notes["C2"] = "Track Id", "Note"
    notes["B3"], notes["C3"] = 1, "great"
    chart = BarChart()
    chart.add_data(Reference(plays, min_col=2, min_row=1, max_row=3))
    workbook.create_chartsheet("Chart").add_chart(chart)
    workbook.save(path)


def test_xlsx_sheets_union_their_columns(tmp_path: Path) -> None:
    """Decision: one schema for the workbook, the union of the sheets' columns; a column a sheet
    lacks is null in its rows. Empty worksheets and chart sheets are skipped. Rows are numbered
    as Excel numbers them."""
    path = tmp_path / "plays 2026.xlsx"
    write_workbook(path)
    conversion, table = convert(path)

    assert (conversion.format, conversion.encoding) == ("xlsx", None)
    assert conversion.sheets == ["Plays", "Notes"]
    assert conversion.schema.types[:5] == [
        pa.int64(),
        pa.string(),
        pa.timestamp("us"),
        pa.bool_(),
        pa.string(),
    ]
    assert table.select(
        ["track_id", "plays", "liked", "note", "_sheet", "_row_number"]
    ).to_pylist() == [
        {
            "track_id": 1,
            "plays": "10",
            "liked": True,
            "note": None,
            "_sheet": "Plays",
            "_row_number": 2,
        },
        {
            "track_id": 2,
            "plays": "many",
            "liked": False,
            "note": None,
            "_sheet": "Plays",
            "_row_number": 4,
        },
        {
            "track_id": 1,
            "plays": None,
            "liked": None,
            "note": "great",
            "_sheet": "Notes",
            "_row_number": 3,
        },
    ]
    assert conversion.rejects == [
        {
            "_source_file": "plays 2026.xlsx",
            "_sheet": "Plays",
            "_row_number": 5,
            "_raw": '["3","30","2026-03-06T12:00:00",null,"stray"]',
            "_reject_reason": "1 values outside the header's columns",
        }
    ]


def test_corrupt_xlsx_fails(tmp_path: Path) -> None:
    path = tmp_path / "workbook.xlsx"
    write_workbook(path)
    truncated = landed(tmp_path, "truncated.xlsx", path.read_bytes()[:2_000])
    error = file_error(truncated)

    assert error["reason"].startswith("unreadable xlsx workbook")
    assert (error["format"], error["location"]) == ("xlsx", "workbook")
    assert file_error(landed(tmp_path, "text.xlsx", LISTENS_CSV))["reason"] == (
        "not an xlsx workbook"
    )


def test_workbook_without_data_fails(tmp_path: Path) -> None:
    path = tmp_path / "blank.xlsx"
    workbook = openpyxl.Workbook()
    workbook.create_sheet("Also empty")
    workbook.save(path)

    assert file_error(path) == {
        "reason": "no worksheet has data",
        "format": "xlsx",
        "location": "workbook",
        "expected": None,
        "found": "['Sheet', 'Also empty']",
    }


def test_formulas_land_as_their_calculated_values_else_reject_their_row(tmp_path: Path) -> None:
    path = tmp_path / "sums.xlsx"
    workbook = openpyxl.Workbook()
    sums = workbook.active
    sums.title = "Sums"
    for row in (["a", "b", "total"], [1, 2, "=A2+B2"], [3, 4, "=A3+B3"], [5, 6, 11]):
        sums.append(row)
    workbook.save(path)
    with_cached_values(path, {"A2+B2": "3"})  # as Excel saves it; A3+B3 never calculated
    conversion, table = convert(path)

    assert table.column("total").to_pylist() == [3, 11]
    assert table.column("_row_number").to_pylist() == [2, 4]
    [reject] = conversion.rejects
    assert (reject["_sheet"], reject["_row_number"]) == ("Sums", 3)
    assert reject["_reject_reason"].startswith("total (C): formula =A3+B3 has no calculated value")
