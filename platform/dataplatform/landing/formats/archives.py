"""Unpacks a landed gzip file, or a zip archive of one file, into a temporary folder so that the
file inside is read as if it had been dropped itself."""

import gzip
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Protocol

import pyarrow as pa

from dataplatform.landing.formats import limits
from dataplatform.landing.formats.errors import LandingFileError

CHUNK_BYTES = 1 << 20


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


ARCHIVES = {".gz": "gzip", ".zip": "zip"}
# Folders zip tools add beside the file itself.
IGNORED_MEMBERS = ("__MACOSX/",)


def unpack(path: Path, folder: Path) -> Path:
    """The one file in the archive `path`, written into `folder` under its own name."""
    kind = ARCHIVES[path.suffix.lower()]
    try:
        return _gunzip(path, folder) if kind == "gzip" else _unzip(path, folder)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, RuntimeError) as error:
        # RuntimeError: zipfile's answer to an encrypted member.
        raise LandingFileError(
            f"unreadable {kind} archive: {error}", format=kind, location="archive"
        ) from error


def _gunzip(path: Path, folder: Path) -> Path:
    target = folder / (path.stem or "file")
    with gzip.open(path) as source:
        _copy_bounded(source, target, "gzip", path.stat().st_size)
    return target


def _unzip(path: Path, folder: Path) -> Path:
    with zipfile.ZipFile(path) as archive:
        members = [
            member
            for member in archive.infolist()
            if not member.is_dir() and not member.filename.startswith(IGNORED_MEMBERS)
        ]
        if len(members) != 1:
            raise LandingFileError(
                f"a zip archive of {len(members)} files: only an archive of one file is read",
                format="zip",
                location="archive",
                expected="one file",
                found=", ".join(member.filename for member in members[:5]) or "no file",
            )
        [member] = members
        target = folder / (PurePosixPath(member.filename).name or "file")
        with archive.open(member) as source:
            _copy_bounded(source, target, "zip", member.compress_size)
    return target


def _copy_bounded(source: Readable, target: Path, kind: str, packed: int) -> None:
    """Unpack `source` into `target` a chunk at a time, stopping as soon as it grows past the
    limits (the caller removes the partial copy): a bomb never fills the disk or the memory."""
    written = 0
    with target.open("wb") as copy:
        while chunk := source.read(CHUNK_BYTES):
            written += len(chunk)
            _check_unpacked(written, packed, kind)
            copy.write(chunk)


def _check_unpacked(written: int, packed: int, kind: str) -> None:
    ratio_limit = limits.MAX_UNPACK_RATIO * max(packed, 1)
    if written > limits.MAX_UNPACKED_BYTES:
        expected = f"at most {limits.MAX_UNPACKED_BYTES} bytes unpacked"
        found = f"{written} bytes and more"
    elif written > limits.RATIO_FLOOR_BYTES and written > ratio_limit:
        expected = f"at most {limits.MAX_UNPACK_RATIO} bytes per compressed byte"
        found = f"{written} bytes from {packed}"
    else:
        return
    raise LandingFileError(
        f"decompression bomb: the {kind} content grows past the limit",
        format=kind,
        location="archive",
        expected=expected,
        found=found,
    )


def temporary_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="landing-unpacked-"))


def removing(batches: Iterator[pa.RecordBatch], folder: Path) -> Iterator[pa.RecordBatch]:
    """The batches, removing the unpacked copy once they are read (or abandoned)."""
    try:
        yield from batches
    finally:
        shutil.rmtree(folder, ignore_errors=True)
