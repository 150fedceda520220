"""A landed file is opened by its extension; an unknown extension or an empty file fails."""

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
