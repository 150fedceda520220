"""A landed file is opened by its extension, an archive as the file inside; an unknown extension,
an empty file or an archive of other than one readable file fails."""

import gzip
import tempfile
import zipfile
from pathlib import Path

from platform_tests.landing.formats.landed_files import LISTENS_CSV, convert, file_error, landed


def test_empty_file_fails(tmp_path: Path) -> None:
    assert file_error(landed(tmp_path, "empty.csv", "")) == {
        "reason": "empty file",
        "format": "csv",
        "location": "byte 0",
        "expected": None,
        "found": None,
    }
    assert file_error(landed(tmp_path, "blank.jsonl", "\ufeff \n\n"))["reason"] == "empty file"


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


def test_a_gzip_file_and_a_zip_of_one_file_are_read_as_the_file_inside(tmp_path: Path) -> None:
    packed = tmp_path / "packed.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("exports/listens.csv", LISTENS_CSV)
        archive.writestr("__MACOSX/exports/._listens.csv", b"\x00\x05\x16\x07")
    for path in (landed(tmp_path, "listens.csv.gz", gzip.compress(LISTENS_CSV.encode())), packed):
        conversion, table = convert(path)

        assert (conversion.format, conversion.compression) == (
            "csv",
            path.suffix[1:].replace("gz", "gzip"),
        )
        assert table.column("listen_id").to_pylist() == ["L1", "L2"]
        assert table.column("_source_file").to_pylist() == [path.name] * 2
    assert not list(Path(tempfile.gettempdir()).glob("landing-unpacked-*"))


def test_archives_that_are_not_one_readable_file_fail(tmp_path: Path) -> None:
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.csv", "a\n1\n")
        archive.writestr("b.csv", "b\n2\n")
    cut = gzip.compress(LISTENS_CSV.encode() * 50)[:-30]

    assert file_error(two)["found"] == "a.csv, b.csv"
    assert file_error(landed(tmp_path, "cut.csv.gz", cut))["reason"].startswith(
        "unreadable gzip archive"
    )
    assert file_error(landed(tmp_path, "plain.csv.gz", LISTENS_CSV))["format"] == "gzip"
    assert file_error(landed(tmp_path, "inner.txt.gz", gzip.compress(b"x")))["found"] == ".txt"
    assert not list(Path(tempfile.gettempdir()).glob("landing-unpacked-*"))
