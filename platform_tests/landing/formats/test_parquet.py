"""Parquet files keep their types; a contract casts them or fails the file."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from platform_tests.landing.formats.landed_files import PROVENANCE, convert, file_error, landed


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


def test_a_parquet_file_cut_short_is_reported_as_truncated(tmp_path: Path) -> None:
    whole = write_parquet(tmp_path).read_bytes()
    error = file_error(landed(tmp_path, "cut.parquet", whole[:-20]))

    assert error["reason"].startswith("truncated Parquet file")
    assert error["location"] == f"byte {len(whole) - 20}"
    assert "PAR1" not in (error["found"] or "")


def test_a_damaged_footer_and_a_file_that_is_not_parquet_say_which(tmp_path: Path) -> None:
    whole = write_parquet(tmp_path).read_bytes()
    damaged = whole[:-12] + b"\xff" * 4 + whole[-8:]  # the footer's length field scrambled

    assert file_error(landed(tmp_path, "bad.parquet", damaged))["reason"].startswith(
        "unreadable Parquet footer"
    )
    error = file_error(landed(tmp_path, "text.parquet", "a,b\n1,2\n"))
    assert (error["reason"], error["found"]) == ("not a Parquet file", "b'a,b\\n'")
