"""CSV records become typed rows with exact record numbers; ragged ones are rejected."""

import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from dataplatform.landing.formats import limits
from platform_tests.landing.formats.landed_files import (
    LISTENS_CSV,
    PROVENANCE,
    convert,
    file_error,
    landed,
)


def test_csv_rows_get_inferred_types_and_provenance(tmp_path: Path) -> None:
    conversion, table = convert(landed(tmp_path, "listens.csv", LISTENS_CSV))

    assert (conversion.format, conversion.encoding, conversion.rejects) == ("csv", "utf-8", [])
    assert conversion.schema == pa.schema(
        [
            ("listen_id", pa.string()),
            ("user_id", pa.int64()),
            ("ms_played", pa.int64()),
            ("listened_at", pa.timestamp("us", tz="UTC")),
            ("skipped", pa.bool_()),
            ("score", pa.float64()),
            ("_source_file", pa.string()),
            ("_row_number", pa.int64()),
            ("_sheet", pa.string()),
        ]
    )
    assert table.to_pylist()[1] == {
        "listen_id": "L2",
        "user_id": 2,
        "ms_played": 2500,
        "listened_at": datetime.datetime(2026, 3, 4, 11, 30, tzinfo=datetime.UTC),
        "skipped": False,
        "score": 1.25,
        "_source_file": "listens.csv",
        "_row_number": 3,  # the line: the header is line 1
        "_sheet": None,
    }


@pytest.mark.parametrize("content", ["a,Total Plays\n", "a,Total Plays"])
def test_header_only_gives_a_schema_and_no_rows(tmp_path: Path, content: str) -> None:
    conversion, table = convert(landed(tmp_path, "header.csv", content))

    assert conversion.schema.names == ["a", "total_plays", *PROVENANCE]
    assert table.num_rows == 0


def test_ragged_rows_are_rejected_with_the_line_they_start_on(tmp_path: Path) -> None:
    content = 'id,text,n\n1,"two\nlines",10\n2,x\n\n3,y,30\n,,\n4,z,40,extra\n5,w,50\n'
    conversion, table = convert(landed(tmp_path, "ragged.csv", content))

    assert table.column("id").to_pylist() == [1, 3, 5]
    assert table.column("_row_number").to_pylist() == [2, 6, 9]  # empty lines are no rows
    assert table.column("text").to_pylist()[0] == "two\nlines"
    assert conversion.rejects == [
        {
            "_source_file": "ragged.csv",
            "_sheet": None,
            "_row_number": 4,
            "_raw": "2,x",
            "_reject_reason": "expected 3 fields, found 2",
        },
        {
            "_source_file": "ragged.csv",
            "_sheet": None,
            "_row_number": 8,
            "_raw": "4,z,40,extra",
            "_reject_reason": "expected 3 fields, found 4",
        },
    ]


@pytest.mark.parametrize(
    "content",
    [
        'a,b\n1,x\n2,"never closed\n3,y\n4,z\n',  # the rest of the file fits the last column
        'a,b,c\n1,x,1\n2,"never closed,1\n3,y,1\n',  # the rest of the file makes a ragged row
    ],
)
def test_unterminated_quote_fails_naming_its_line(tmp_path: Path, content: str) -> None:
    error = file_error(landed(tmp_path, "quotes.csv", content))

    assert error["reason"].startswith("unterminated quoted field")
    assert (error["format"], error["location"]) == ("csv", "line 3")


@pytest.mark.parametrize(
    ("content", "rejected"),
    [
        ('id,text\n1,"good\nsong"\n', []),
        ('id,text\n1,"good\nsong"\n  \n', [4]),
        ('"id","the\ntext"\r\n1,"good\r\nsong"', []),
    ],
)
def test_multiline_quoted_values_are_not_unterminated_quotes(
    tmp_path: Path, content: str, rejected: list[int]
) -> None:
    conversion, table = convert(landed(tmp_path, "review.csv", content))

    assert table.column(1).to_pylist()[0].split() == ["good", "song"]
    assert [reject["_row_number"] for reject in conversion.rejects] == rejected


def test_ten_megabyte_lines_fail_fast_and_clearly(tmp_path: Path) -> None:
    giant = "x" * 10_000_000
    error = file_error(landed(tmp_path, "long field.csv", f"id,text\n1,{giant}\n2,y\n"))
    assert error["reason"].startswith("a record is longer than 4 MiB")
    assert (error["format"], error["location"]) == ("csv", "line 2 or after")

    error = file_error(landed(tmp_path, "one line.csv", giant))
    assert (error["reason"], error["location"]) == ("the first line is longer than 4 MiB", "line 1")


def test_line_numbers_stay_exact_across_blocks_around_ragged_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "BLOCK_BYTES", 512)
    rows = [f'{n},"text\n{n}"' if n % 7 else f"{n}" for n in range(1, 201)]
    conversion, table = convert(landed(tmp_path, "blocks.csv", "n,text\n" + "\n".join(rows)))

    starts, line = {}, 2  # every 7th row is ragged and one line long, the others two
    for n in range(1, 201):
        starts[n], line = line, line + (1 if n % 7 == 0 else 2)
    assert table.column("_row_number").to_pylist() == [
        starts[n] for n in table.column("n").to_pylist()
    ]
    assert [reject["_row_number"] for reject in conversion.rejects] == [
        starts[n] for n in range(7, 201, 7)
    ]
