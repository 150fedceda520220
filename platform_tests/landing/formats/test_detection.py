"""A text file's delimiter and encoding are sniffed, and binary content fails the file."""

import random
import zipfile
from pathlib import Path

import pytest

from platform_tests.landing.formats.landed_files import LISTENS_CSV, convert, file_error, landed


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


@pytest.mark.parametrize(
    ("codec", "bom", "detected"),
    [
        ("utf-16-le", b"\xff\xfe", "utf-16-le"),
        ("utf-16-be", b"\xfe\xff", "utf-16-be"),
        ("utf-32-le", b"\xff\xfe\x00\x00", "utf-32-le"),
        ("utf-32-be", b"\x00\x00\xfe\xff", "utf-32-be"),
    ],
)
@pytest.mark.parametrize("suffix", ["csv", "jsonl", "json"])
def test_utf16_and_utf32_are_read_by_their_byte_order_mark(
    tmp_path: Path, codec: str, bom: bytes, detected: str, suffix: str
) -> None:
    text = {
        "csv": "City,Count\nZürich ✓,5\nKöln,4\n",
        "jsonl": '{"City": "Zürich ✓", "Count": 5}\n{"City": "Köln", "Count": 4}\n',
        "json": '[{"City": "Zürich ✓", "Count": 5}, {"City": "Köln", "Count": 4}]',
    }[suffix]
    conversion, table = convert(landed(tmp_path, f"wide.{suffix}", bom + text.encode(codec)))

    assert conversion.encoding == detected
    assert table.column("city").to_pylist() == ["Zürich ✓", "Köln"]
    assert table.column("count").to_pylist() == [5, 4]
