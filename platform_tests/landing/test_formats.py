"""Landed files of every format become typed Arrow batches, row rejects or clear file errors."""

import datetime
import random
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl.chart import BarChart, Reference

from dataplatform.landing import formats
from dataplatform.landing.formats import Conversion, LandingFileError, open_landed_file

PROVENANCE = ["_source_file", "_row_number", "_sheet"]
LISTENS_CSV = (
    "listen_id,userId,ms_played,Listened At,skipped,score\n"
    "L1,1,1000,2026-03-04T10:00:00Z,true,0.5\n"
    "L2,2,2500,2026-03-04T11:30:00Z,false,1.25\n"
)


def landed(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def convert(path: Path, contract: pa.Schema | None = None) -> tuple[Conversion, pa.Table]:
    conversion = open_landed_file(path, path.name, contract)
    batches = list(conversion.batches)
    assert all(batch.schema == conversion.schema for batch in batches)
    return conversion, pa.Table.from_batches(batches, schema=conversion.schema)


def file_error(path: Path, contract: pa.Schema | None = None) -> dict[str, str | None]:
    with pytest.raises(LandingFileError) as raised:
        list(open_landed_file(path, path.name, contract).batches)
    assert "\n" not in str(raised.value)
    return raised.value.as_dict()


def data_columns(table: pa.Table) -> dict[str, list]:
    return table.drop_columns(PROVENANCE).to_pydict()


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
        "_row_number": 2,
        "_sheet": None,
    }


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


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("comma.csv", "a,b\n1,x y\n2,z\n"),
        ("semicolon.csv", "a;b\n1;x y\n2;z\n"),
        ("tab.tsv", "a\tb\n1\tx y\n2\tz\n"),
        ("tab named csv.csv", "a\tb\n1\tx y\n2\tz\n"),
        ("pipe.csv", "a|b\n1|x y\n2|z\n"),
        ("quoted.csv", 'a;b\n1;"x; y"\n2;z\n'),
    ],
)
def test_delimiter_is_detected(tmp_path: Path, name: str, content: str) -> None:
    _, table = convert(landed(tmp_path, name, content))

    assert table.column("a").to_pylist() == [1, 2]
    assert table.column("b").to_pylist()[1] == "z"


def test_extension_breaks_a_tie_between_delimiters(tmp_path: Path) -> None:
    content = "a\tb,c\n1\tx,y\n2\tz,w\n"

    assert convert(landed(tmp_path, "tie.tsv", content))[1].column_names[:2] == ["a", "b_c"]
    assert convert(landed(tmp_path, "tie.csv", content))[1].column_names[:2] == ["a_b", "c"]


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        ("nom;ville\nJosé;Montréal\nFrançois;Zürich\n".encode(), "utf-8"),
        ("\ufeffnom;ville\nJosé;Montréal\nFrançois;Zürich\n".encode(), "utf-8-sig"),
        ("nom;ville\nJosé;Montréal\nFrançois;Zürich\n".encode("latin-1"), "cp1252"),
        ("nom;ville\nJosé;Montréal, œuvre à 5 €\nFrançois;Zürich\n".encode("cp1252"), "cp1252"),
    ],
)
def test_encoding_is_detected(tmp_path: Path, content: bytes, encoding: str) -> None:
    conversion, table = convert(landed(tmp_path, "people.csv", content))

    assert conversion.encoding == encoding
    assert conversion.schema.names[:2] == ["nom", "ville"]
    assert table.column("nom").to_pylist() == ["José", "François"]
    assert table.column("ville").to_pylist()[1] == "Zürich"


def test_stray_latin1_bytes_in_utf8_are_read_as_cp1252(tmp_path: Path) -> None:
    """Decision: a UTF-8 file with a few cp1252 values pasted in keeps every row; the stray bytes
    are decoded as cp1252, the UTF-8 around them stays UTF-8, wherever they are in the file."""
    filler = "".join(f"Zoë {n},{n}\n" for n in range(20_000))  # past the sniffed head
    content = (
        "name,n\nJosé,1\n".encode()
        + "Zoë,2\n".encode("latin-1")
        + filler.encode()
        + "Günther,3\n".encode("latin-1")
    )
    conversion, table = convert(landed(tmp_path, "mixed encodings.csv", content))

    names = table.column("name").to_pylist()
    assert conversion.encoding == "utf-8"
    assert (names[0], names[1], names[2], names[-1]) == ("José", "Zoë", "Zoë 0", "Günther")
    assert conversion.rejects == []


def test_empty_file_fails(tmp_path: Path) -> None:
    assert file_error(landed(tmp_path, "empty.csv", "")) == {
        "reason": "empty file",
        "format": "csv",
        "location": "byte 0",
        "expected": None,
        "found": None,
    }
    assert file_error(landed(tmp_path, "blank.jsonl", "\ufeff \n\n"))["reason"] == "empty file"


@pytest.mark.parametrize("content", ["a,Total Plays\n", "a,Total Plays"])
def test_header_only_gives_a_schema_and_no_rows(tmp_path: Path, content: str) -> None:
    conversion, table = convert(landed(tmp_path, "header.csv", content))

    assert conversion.schema.names == ["a", "total_plays", *PROVENANCE]
    assert table.num_rows == 0


def test_binary_content_named_csv_fails(tmp_path: Path) -> None:
    garbage = random.Random(7).randbytes(10_000)
    error = file_error(landed(tmp_path, "garbage.csv", garbage))
    assert (error["reason"], error["format"]) == ("binary content, not text", "csv")
    assert error["location"].startswith("byte ")

    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("listens.csv", LISTENS_CSV)
    error = file_error(landed(tmp_path, "zipped.csv", archive.read_bytes()))
    assert (error["found"], error["location"]) == ("a zip archive", "byte 0")


def test_ragged_rows_are_rejected_with_their_record_number(tmp_path: Path) -> None:
    content = 'id,text,n\n1,"two\nlines",10\n2,x\n3,y,30\n4,z,40,extra\n5,w,50\n'
    conversion, table = convert(landed(tmp_path, "ragged.csv", content))

    assert table.column("id").to_pylist() == [1, 3, 5]
    assert table.column("_row_number").to_pylist() == [1, 3, 5]
    assert table.column("text").to_pylist()[0] == "two\nlines"
    assert conversion.rejects == [
        {
            "_source_file": "ragged.csv",
            "_sheet": None,
            "_row_number": 2,
            "_raw": "2,x",
            "_reject_reason": "expected 3 fields, found 2",
        },
        {
            "_source_file": "ragged.csv",
            "_sheet": None,
            "_row_number": 4,
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
        ('id,text\n1,"good\nsong"\n  \n', [2]),
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
    assert (error["format"], error["location"]) == ("csv", "record 1")

    error = file_error(landed(tmp_path, "one line.csv", giant))
    assert (error["reason"], error["location"]) == ("the first line is longer than 4 MiB", "line 1")


def test_late_value_that_does_not_fit_rejects_only_its_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "BLOCK_BYTES", 1024)  # types come from the first kilobyte
    rows = [f"L{n},{n * 10}" for n in range(1, 301)]
    rows[250] = "L251,n/a"
    rows[260] = "L261,"
    content = "listen_id,ms_played\n" + "\n".join(rows) + "\nL301,5\n"
    conversion, table = convert(landed(tmp_path, "late.csv", content))

    assert conversion.schema.field("ms_played").type == pa.int64()
    assert table.num_rows == 300
    assert 251 not in table.column("_row_number").to_pylist()
    played = dict(
        zip(table["_row_number"].to_pylist(), table["ms_played"].to_pylist(), strict=True)
    )
    assert (played[250], played[261], played[262], played[301]) == (2500, None, 2620, 5)
    assert conversion.rejects == [
        {
            "_source_file": "late.csv",
            "_sheet": None,
            "_row_number": 251,
            "_raw": '{"listen_id":"L251","ms_played":"n/a"}',
            "_reject_reason": "ms_played: 'n/a' is not int64",
        }
    ]


def test_record_numbers_stay_exact_across_blocks_around_ragged_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "BLOCK_BYTES", 512)
    rows = [f'{n},"text\n{n}"' if n % 7 else f"{n}" for n in range(1, 201)]
    conversion, table = convert(landed(tmp_path, "blocks.csv", "n,text\n" + "\n".join(rows)))

    assert table.column("_row_number").to_pylist() == table.column("n").to_pylist()
    assert [reject["_row_number"] for reject in conversion.rejects] == list(range(7, 201, 7))


def test_contract_casts_text_columns_and_requires_its_columns(tmp_path: Path) -> None:
    path = landed(tmp_path, "listens.csv", LISTENS_CSV + "L3,3,lots,2026-03-04T12:00:00Z,,\n")
    contract = pa.schema([("ms_played", pa.int32()), ("user_id", pa.string())])
    conversion, table = convert(path, contract)
    assert conversion.schema.field("ms_played").type == pa.int32()
    assert table.column("user_id").to_pylist() == ["1", "2"]
    assert [(r["_row_number"], r["_reject_reason"]) for r in conversion.rejects] == [
        (3, "ms_played: 'lots' is not int32")
    ]

    error = file_error(path, pa.schema([("ms_played", pa.int64()), ("track_id", pa.int64())]))
    assert error["reason"] == "file contradicts its contract: missing column track_id"
    assert error["expected"] == "ms_played: int64, track_id: int64"
    assert error["found"].startswith("listen_id: string, user_id: int64, ms_played: string")


def test_unknown_extension_fails(tmp_path: Path) -> None:
    error = file_error(landed(tmp_path, "notes.txt", "a,b\n1,2\n"))

    assert (error["reason"], error["format"], error["found"]) == (
        "unsupported file type",
        None,
        ".txt",
    )


def test_file_names_with_spaces_and_unicode(tmp_path: Path) -> None:
    name = "écoutes du 4 mars (copie) 🎧.csv"
    _, table = convert(landed(tmp_path, name, LISTENS_CSV))

    assert table.column("_source_file").to_pylist() == [name, name]


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
    assert table.column("_row_number").to_pylist() == [1, 2]
    assert [(r["_row_number"], r["_reject_reason"]) for r in conversion.rejects] == [
        (3, "not a JSON object")
    ]


def test_json_object_of_columns(tmp_path: Path) -> None:
    _, table = convert(landed(tmp_path, "columns.json", '{"id": [1, 2], "name": ["a", "b"]}'))

    assert data_columns(table) == {"id": [1, 2], "name": ["a", "b"]}


def test_truncated_json_fails_with_its_position(tmp_path: Path) -> None:
    error = file_error(landed(tmp_path, "cut.json", '[{"id": 1},\n {"id": 2, "na'))

    assert error["reason"].startswith("invalid JSON")
    assert (error["format"], error["location"]) == ("json", "line 2, column 15 (character 26)")


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
    monkeypatch.setattr(formats, "SAMPLE_ROWS", 2)
    monkeypatch.setattr(formats, "BATCH_ROWS", 2)
    content = '{"id": 1}\n{"id": 2}\n{"id": "three"}\n{"id": 4, "new": 1}\n{"id": 5}\n'
    conversion, table = convert(landed(tmp_path, "drift.ndjson", content))

    assert (conversion.format, table.column("id").to_pylist()) == ("jsonl", [1, 2, 5])
    assert sorted((r["_row_number"], r["_reject_reason"]) for r in conversion.rejects) == [
        (3, "id: 'three' is not int64"),
        (4, "fields not in the sampled schema: new"),
    ]


def test_json_named_file_holding_json_lines_is_read_as_json_lines(tmp_path: Path) -> None:
    conversion, table = convert(landed(tmp_path, "events.json", '{"id": 1}\n{"id": 2}\n'))

    assert (conversion.format, table.column("id").to_pylist()) == ("jsonl", [1, 2])


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
    lacks is null in its rows. Empty worksheets and chart sheets are skipped."""
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
            "_row_number": 1,
        },
        {
            "track_id": 2,
            "plays": "many",
            "liked": False,
            "note": None,
            "_sheet": "Plays",
            "_row_number": 3,
        },
        {
            "track_id": 1,
            "plays": None,
            "liked": None,
            "note": "great",
            "_sheet": "Notes",
            "_row_number": 1,
        },
    ]
    assert conversion.rejects == [
        {
            "_source_file": "plays 2026.xlsx",
            "_sheet": "Plays",
            "_row_number": 4,
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


def write_parquet(tmp_path: Path) -> Path:
    path = tmp_path / "tracks.parquet"
    table = pa.table(
        {
            "trackId": pa.array([1, 2, 3_000_000_000], pa.int64()),
            "Title": ["a", "b", "c"],
            "plays": pa.array([1, 2, 3], pa.int32()),
        }
    )
    pq.write_table(table, path)
    return path


def test_parquet_keeps_its_types_and_gets_provenance(tmp_path: Path) -> None:
    conversion, table = convert(write_parquet(tmp_path))

    assert (conversion.format, conversion.encoding) == ("parquet", None)
    assert conversion.schema.names == ["track_id", "title", "plays", *PROVENANCE]
    assert conversion.schema.field("plays").type == pa.int32()
    assert table.column("_row_number").to_pylist() == [1, 2, 3]


def test_parquet_contract_casts_or_fails_the_file(tmp_path: Path) -> None:
    path = write_parquet(tmp_path)
    contract = pa.schema([("track_id", pa.int32()), ("plays", pa.int64())])
    conversion, table = convert(path, contract)
    assert table.column("plays").type == pa.int64()
    assert table.column("track_id").to_pylist() == [1, 2]
    assert [r["_row_number"] for r in conversion.rejects] == [3]
    assert conversion.rejects[0]["_reject_reason"] == "track_id: 3000000000 is not int32"

    error = file_error(path, pa.schema([("title", pa.int64()), ("album", pa.string())]))
    assert error == {
        "reason": "file contradicts its contract: missing column album; title is string, not int64",
        "format": "parquet",
        "location": None,
        "expected": "title: int64, album: string",
        "found": "track_id: int64, title: string, plays: int32",
    }


def test_corrupt_parquet_fails(tmp_path: Path) -> None:
    path = write_parquet(tmp_path)
    error = file_error(landed(tmp_path, "cut.parquet", path.read_bytes()[:-20]))

    assert error["reason"].startswith("unreadable Parquet file")
    assert (error["format"], error["location"]) == ("parquet", "footer")


def test_error_message_is_one_line_with_reason_format_and_location() -> None:
    error = LandingFileError("unterminated quoted field", format="csv", location="line 3")

    assert str(error) == "unterminated quoted field (csv file, at line 3)"


def test_small_blocks_are_regrouped_and_abandoning_the_batches_stops_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "BLOCK_BYTES", 1024)
    path = landed(tmp_path, "numbers.csv", "n\n" + "\n".join(map(str, range(10_000))))
    assert [batch.num_rows for batch in open_landed_file(path, path.name).batches] == [10_000]

    monkeypatch.setattr(formats, "BATCH_BYTES", 1)
    batches = open_landed_file(path, path.name).batches
    assert next(batches).num_rows < 10_000
    batches.close()
