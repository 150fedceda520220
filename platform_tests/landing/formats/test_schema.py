"""Columns get unique snake_case names, types inferred from a sample, and a contract's types."""

import datetime
from pathlib import Path

import pyarrow as pa

from dataplatform.landing.formats import open_landed_file
from platform_tests.landing.formats.landed_files import (
    LISTENS_CSV,
    PROVENANCE,
    convert,
    data_columns,
    file_error,
    landed,
)


def test_dates_naive_timestamps_empty_values_and_codes_with_leading_zeros(
    tmp_path: Path,
) -> None:
    content = "day,at,note,postcode\n2026-03-04,2026-03-04 10:00:00,,01234\n2026-03-05,,x,75001\n"
    conversion, table = convert(landed(tmp_path, "mixed.csv", content))

    assert conversion.schema.types[:4] == [
        pa.date32(),
        pa.timestamp("us"),
        pa.string(),
        pa.string(),
    ]
    assert data_columns(table) == {
        "day": [datetime.date(2026, 3, 4), datetime.date(2026, 3, 5)],
        "at": [datetime.datetime(2026, 3, 4, 10), None],
        "note": [None, "x"],
        "postcode": ["01234", "75001"],
    }


def test_column_names_become_unique_snake_case(tmp_path: Path) -> None:
    header = "Review Text,userId,HTTPStatus, Total ($) ,,id,id,ID,id_2\n"
    conversion = open_landed_file(
        landed(tmp_path, "names.csv", header + "a,1,200,3,4,5,6,7,8\n"), "names.csv"
    )

    assert conversion.schema.names == [
        "review_text",
        "user_id",
        "http_status",
        "total",
        "column_5",
        "id",
        "id_2",
        "id_3",
        "id_2_2",
        *PROVENANCE,
    ]


def test_contract_casts_text_columns_and_requires_its_columns(tmp_path: Path) -> None:
    path = landed(tmp_path, "listens.csv", LISTENS_CSV + "L3,3,lots,2026-03-04T12:00:00Z,,\n")
    contract = pa.schema([("ms_played", pa.int32()), ("user_id", pa.string())])
    conversion, table = convert(path, contract)
    assert conversion.schema.field("ms_played").type == pa.int32()
    assert table.column("user_id").to_pylist() == ["1", "2"]
    assert [(r["_row_number"], r["_reject_reason"]) for r in conversion.rejects] == [
        (4, "ms_played: 'lots' is not int32")  # line 4
    ]

    error = file_error(path, pa.schema([("ms_played", pa.int64()), ("track_id", pa.int64())]))
    assert error["reason"] == "file contradicts its contract: missing column track_id"
    assert error["expected"] == "ms_played: int64, track_id: int64"
    assert error["found"].startswith("listen_id: string, user_id: int64, ms_played: string")


def test_a_few_texts_in_a_number_column_reject_their_rows_not_the_column(tmp_path: Path) -> None:
    plays = [str(n * 10) for n in range(1, 21)]
    plays[6] = "n/a"
    scores = [f"{n}.5" for n in range(20)]
    scores[3] = "high"
    lines = [
        f"L{n},{play},{score}" for n, (play, score) in enumerate(zip(plays, scores, strict=True))
    ]
    conversion, table = convert(
        landed(tmp_path, "plays.csv", "id,plays,score\n" + "\n".join(lines))
    )

    assert conversion.schema.types[1:3] == [pa.int64(), pa.float64()]
    assert table.num_rows == 18
    assert sorted((r["_row_number"], r["_reject_reason"]) for r in conversion.rejects) == [
        (5, "score: 'high' is not double"),
        (8, "plays: 'n/a' is not int64"),
    ]
    assert conversion.warnings == [
        "plays: int64, though 1 of 20 sampled values are not numbers: their rows are rejected",
        "score: double, though 1 of 20 sampled values are not numbers: their rows are rejected",
    ]
    assert conversion.tally.read == table.num_rows + len(conversion.rejects)


def test_a_column_of_many_texts_stays_text_with_a_warning(tmp_path: Path) -> None:
    conversion, table = convert(landed(tmp_path, "few.csv", "id,rating\n1,5\n2,1\n3,five\n"))

    assert table.column("rating").to_pylist() == ["5", "1", "five"]
    assert conversion.warnings == ["rating: kept as text, though 2 of 3 sampled values are numbers"]
