"""Decompression bombs: a gzip or zip member that unpacks past the limits is refused, streamed."""

import gzip
import tempfile
import zipfile
from pathlib import Path
from typing import Protocol

import pytest

from dataplatform.landing.formats import limits
from platform_tests.landing.formats.landed_files import LISTENS_CSV, convert, file_error

MB = 1024 * 1024
BOMB_BYTES = 200 * MB


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


def zeros(stream: Writable, size: int) -> None:
    """`size` bytes of zeros, written a megabyte at a time (never held whole)."""
    block = bytes(MB)
    for _ in range(size // MB):
        stream.write(block)


@pytest.fixture(autouse=True)
def own_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(unpacked))
    return unpacked


def test_a_gzip_bomb_is_refused_past_the_size_limit(
    tmp_path: Path, own_temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_UNPACKED_BYTES", 10 * MB)
    bomb = tmp_path / "listens.csv.gz"
    with gzip.open(bomb, "wb") as packed:
        zeros(packed, BOMB_BYTES)

    error = file_error(bomb)

    assert error["reason"] == "decompression bomb: the gzip content grows past the limit"
    assert error["expected"] == f"at most {10 * MB} bytes unpacked"
    assert list(own_temp_dir.iterdir()) == []  # the partial copy is gone


def test_a_zip_bomb_is_refused_past_the_ratio_limit(
    tmp_path: Path, own_temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "RATIO_FLOOR_BYTES", 4 * MB)
    bomb = tmp_path / "listens.zip"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("listens.csv", "w", force_zip64=True) as packed,
    ):
        zeros(packed, BOMB_BYTES)

    error = file_error(bomb)

    assert error["reason"] == "decompression bomb: the zip content grows past the limit"
    assert error["expected"] == f"at most {limits.MAX_UNPACK_RATIO} bytes per compressed byte"
    assert list(own_temp_dir.iterdir()) == []


def test_an_archive_within_the_limits_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_UNPACKED_BYTES", len(LISTENS_CSV))
    monkeypatch.setattr(limits, "RATIO_FLOOR_BYTES", 0)
    monkeypatch.setattr(limits, "MAX_UNPACK_RATIO", 10)
    archive = tmp_path / "listens.csv.gz"
    archive.write_bytes(gzip.compress(LISTENS_CSV.encode()))

    _, table = convert(archive)

    assert table.column("listen_id").to_pylist() == ["L1", "L2"]
