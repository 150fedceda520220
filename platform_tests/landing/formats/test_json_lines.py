"""JSON Lines keep their line numbers; bad lines and fields outside the sample are rejected."""

from pathlib import Path

import pytest

from dataplatform.landing.formats import limits
from platform_tests.landing.formats.landed_files import convert, data_columns, landed


def test_json_lines_reject_bad_lines_and_keep_line_numbers(tmp_path: Path) -> None:
    content = '{"id": 1, "n": 10}\n\n{"id": 2, "n": \n{"id": 3, "n": 30}\n[4]\n{"id": 5}\n'
    conversion, table = convert(landed(tmp_path, "events.jsonl", content))

    assert data_columns(table) == {"id": [1, 3, 5], "n": [10, 30, None]}
    assert table.column("_row_number").to_pylist() == [1, 4, 6]
    assert [(r["_row_number"], r["_raw"]) for r in conversion.rejects] == [
        (3, '{"id": 2, "n":'),
        (5, "[4]"),
    ]
    assert conversion.rejects[0]["_reject_reason"].startswith("invalid JSON")


def test_json_lines_sampled_schema_holds_for_later_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "SAMPLE_ROWS", 2)
    monkeypatch.setattr(limits, "BATCH_ROWS", 2)
    content = '{"id": 1}\n{"id": 2}\n{"id": "three"}\n{"id": 4, "new": 1}\n{"id": 5}\n'
    conversion, table = convert(landed(tmp_path, "drift.ndjson", content))

    assert (conversion.format, table.column("id").to_pylist()) == ("jsonl", [1, 2, 5])
    assert sorted((r["_row_number"], r["_reject_reason"]) for r in conversion.rejects) == [
        (3, "id: 'three' is not int64"),
        (4, "fields not in the sampled schema: new"),
    ]
