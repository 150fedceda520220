"""JSON arrays of objects and objects of columns become rows; broken JSON fails, saying where."""

import datetime
from pathlib import Path

import pyarrow as pa

from platform_tests.landing.formats.landed_files import convert, data_columns, file_error, landed


def test_json_array_of_objects(tmp_path: Path) -> None:
    content = (
        '[{"userId": 1, "plays": 2.5, "tags": ["a"], "at": "2026-03-04T10:00:00Z"},'
        ' {"userId": 2, "active": true}, 7]'
    )
    conversion, table = convert(landed(tmp_path, "users.json", content))

    assert conversion.schema.types[:5] == [
        pa.int64(),
        pa.float64(),
        pa.string(),
        pa.timestamp("us", tz="UTC"),
        pa.bool_(),
    ]
    assert data_columns(table) == {
        "user_id": [1, 2],
        "plays": [2.5, None],
        "tags": ['["a"]', None],
        "at": [datetime.datetime(2026, 3, 4, 10, tzinfo=datetime.UTC), None],
        "active": [None, True],
    }
    assert table.column("_row_number").to_pylist() == [1, 1]  # the line each starts on
    assert [(r["_row_number"], r["_reject_reason"]) for r in conversion.rejects] == [
        (1, "not a JSON object")
    ]


def test_json_object_of_columns(tmp_path: Path) -> None:
    _, table = convert(landed(tmp_path, "columns.json", '{"id": [1, 2], "name": ["a", "b"]}'))

    assert data_columns(table) == {"id": [1, 2], "name": ["a", "b"]}


def test_truncated_json_fails_with_its_position(tmp_path: Path) -> None:
    error = file_error(landed(tmp_path, "cut.json", '[{"id": 1},\n {"id": 2, "na'))

    assert (error["reason"] or "").startswith("invalid JSON")
    assert (error["format"], error["location"]) == ("json", "line 2, column 15 (character 26)")


def test_json_named_file_holding_json_lines_is_read_as_json_lines(tmp_path: Path) -> None:
    conversion, table = convert(landed(tmp_path, "events.json", '{"id": 1}\n{"id": 2}\n'))

    assert (conversion.format, table.column("id").to_pylist()) == ("jsonl", [1, 2])


def test_json_array_rows_are_numbered_by_the_line_each_element_starts_on(tmp_path: Path) -> None:
    content = (
        "[\n"
        '  {"id": 1, "note": "a [bracket], a comma"},\n'
        '  {"id": 2,\n'
        '   "nested": {"list": [1,\n2]}},\n'
        "\n"
        '  "not an object", {"id": 3}\n'
        "]\n"
    )
    conversion, table = convert(landed(tmp_path, "pretty.json", content))

    assert table.column("_row_number").to_pylist() == [2, 3, 7]
    assert [(r["_row_number"], r["_reject_reason"]) for r in conversion.rejects] == [
        (7, "not a JSON object")
    ]
