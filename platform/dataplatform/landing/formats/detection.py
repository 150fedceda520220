"""Sniffs a landed text file from its first bytes: binary content, its encoding, its delimiter."""

import codecs
import csv
from pathlib import Path

import charset_normalizer

from dataplatform.landing.formats import limits
from dataplatform.landing.formats.errors import LandingFileError

DELIMITERS = ",;\t|"
FALLBACK_ENCODING = "cp1252"
BOM = "\ufeff"  # a byte-order mark as text: what remains of it after a UTF-16 or 32 decode
FALLBACK_ERRORS = "dataplatform-cp1252-fallback"
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
BINARY_SIGNATURES = {
    b"PK\x03\x04": "a zip archive",
    b"PAR1": "a Parquet file",
    b"\x1f\x8b": "a gzip archive",
    b"%PDF": "a PDF document",
}


def _decode_as_fallback(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are read as cp1252, the usual culprit."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    undecodable = error.object[error.start : error.end]
    return undecodable.decode(FALLBACK_ENCODING, errors="replace"), error.end


codecs.register_error(FALLBACK_ERRORS, _decode_as_fallback)


def read_head(path: Path, size: int) -> bytes:
    with path.open("rb") as file:
        return file.read(size)


def text_encoding(head: bytes, format: str, *, complete: bool) -> str:
    """The encoding of a text file judged by its head; binary content fails the file."""
    by_bom = bom_encoding(head)
    if by_bom is not None:
        return by_bom
    for signature, kind in BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise LandingFileError(
                "binary content, not text", format=format, location="byte 0", found=kind
            )
    nul = head.find(b"\x00")
    if nul >= 0:
        raise LandingFileError(
            "binary content, not text", format=format, location=f"byte {nul}", found="NUL bytes"
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Valid multi-byte UTF-8 next to stray bytes: UTF-8 with a few cp1252 values pasted in.
    lossy = head.decode("utf-8", errors="replace")
    if any("\x7f" < character != "\ufffd" for character in lossy):
        return "utf-8"
    if charset_normalizer.from_bytes(head).best() is None:
        raise LandingFileError(
            "binary content, not text",
            format=format,
            location="byte 0",
            found="bytes that are text in no known encoding",
        )
    return FALLBACK_ENCODING


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark announces (UTF-32 before UTF-16, whose mark it extends)."""
    return next((name for bom, name in BOMS if head.startswith(bom)), None)


def is_wide(encoding: str) -> bool:
    """UTF-16 and UTF-32 text is not ASCII-compatible: its bytes cannot be split at b"\\n"."""
    return encoding.startswith(("utf-16", "utf-32"))


def decode(raw: bytes, encoding: str) -> str:
    return raw.decode(encoding, errors=FALLBACK_ERRORS)


def sniff_delimiter(text: str, format: str) -> str:
    """The delimiter csv.Sniffer sees in the first complete lines, else the format's own."""
    lines = text[: limits.SNIFF_CHARS]
    if "\n" in lines:
        lines = lines[: lines.rindex("\n")]
    default = "\t" if format == "tsv" else ","
    sniffer = csv.Sniffer()
    sniffer.preferred = [default]  # of several delimiters that fit, the extension's wins
    try:
        return sniffer.sniff(lines, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return default
