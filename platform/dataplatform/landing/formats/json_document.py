"""Reads a JSON file holding an array of objects or an object of column arrays, or hands a `.json`
file that holds JSON Lines to that reader."""

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson
import pyarrow as pa

from dataplatform.landing.formats import limits
from dataplatform.landing.formats.casting import rejected_row
from dataplatform.landing.formats.conversion import Conversion, Tally
from dataplatform.landing.formats.detection import BOM, decode, text_encoding
from dataplatform.landing.formats.errors import LandingFileError
from dataplatform.landing.formats.json_lines import open_json_lines
from dataplatform.landing.formats.records import records_conversion


def open_json(
    path: Path, source_name: str, format: str, head: bytes, contract: pa.Schema | None
) -> Conversion:
    encoding = text_encoding(head, format, complete=len(head) < limits.SNIFF_BYTES)
    if _looks_like_json_lines(head, encoding):
        return open_json_lines(path, source_name, "jsonl", head, contract)
    text = decode(path.read_bytes(), encoding).lstrip(BOM)
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise LandingFileError(
            f"invalid JSON: {error.msg}",
            format=format,
            location=f"line {error.lineno}, column {error.colno} (character {error.pos})",
        ) from error
    values, keys = _json_rows(document)
    rejects: list[dict] = []
    tally = Tally()
    numbers = _element_lines(text) if isinstance(document, list) else None
    records = _objects(values, numbers, source_name, rejects, tally)
    keys = keys or list(
        dict.fromkeys(key for value in values if isinstance(value, dict) for key in value)
    )
    return records_conversion(
        format, encoding, records, keys, source_name, rejects, contract, tally
    )


def _looks_like_json_lines(head: bytes, encoding: str) -> bool:
    """A `.json` file that holds one object per line is JSON Lines."""
    first, _, rest = decode(head, encoding).lstrip(BOM).partition("\n")
    if not rest.lstrip().startswith("{"):
        return False
    try:
        return isinstance(orjson.loads(first), dict)
    except orjson.JSONDecodeError:
        return False


def _json_rows(document: object) -> tuple[list[object], list[str] | None]:
    """The rows of an array of objects, or of an object of equal-length column arrays."""
    if isinstance(document, list):
        return document, None
    if isinstance(document, dict) and all(isinstance(column, list) for column in document.values()):
        lengths = {key: len(column) for key, column in document.items()}
        if len(set(lengths.values())) > 1:
            raise LandingFileError(
                "columns of different lengths",
                format="json",
                location="top-level object",
                expected="arrays of one length",
                found=", ".join(f"{key}: {length}" for key, length in lengths.items()),
            )
        keys = list(document)
        return [
            dict(zip(keys, row, strict=True)) for row in zip(*document.values(), strict=True)
        ], keys
    raise LandingFileError(
        "no rows",
        format="json",
        location="top level",
        expected="an array of objects or an object of arrays",
        found=f"a JSON {type(document).__name__}",
    )


# What changes the nesting depth of valid JSON: strings (skipped whole, so brackets and commas
# inside them do not count), brackets and commas.
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]')
_NOT_SPACE = re.compile(r"\S")


def _element_lines(text: str) -> list[int]:
    """The physical line on which each element of the top-level array in valid JSON `text`
    starts, so rejects of a JSON array are numbered like those of every other text format."""
    lines: list[int] = []
    depth, line, counted_to = 0, 1, 0
    for token in _STRUCTURE.finditer(text):
        mark = token.group()
        if mark in "[{":
            depth += 1
        elif mark in "]}":
            depth -= 1
        if mark in "[," and depth == 1:
            start = _NOT_SPACE.search(text, token.end())
            assert start is not None  # valid JSON: a value or `]` follows
            if start.group() != "]":
                line += text.count("\n", counted_to, start.start())
                counted_to = start.start()
                lines.append(line)
    return lines


def _objects(
    values: Iterable[object],
    numbers: Iterable[int] | None,
    source_name: str,
    rejects: list[dict],
    tally: Tally,
) -> Iterator[tuple[int, dict]]:
    """Each object with its row number: its line in an array, its position in columns."""
    numbered = zip(numbers, values, strict=True) if numbers is not None else enumerate(values, 1)
    for number, value in numbered:
        tally.read += 1
        if isinstance(value, dict):
            yield number, value
        else:
            raw = orjson.dumps(value).decode()
            rejects.append(rejected_row(source_name, number, raw, "not a JSON object"))
