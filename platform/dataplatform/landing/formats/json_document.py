"""Reads a JSON file holding an array of objects or an object of column arrays, or hands a `.json`
file that holds JSON Lines to that reader."""

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
    try:
        document = orjson.loads(decode(path.read_bytes(), encoding).lstrip(BOM))
    except orjson.JSONDecodeError as error:
        raise LandingFileError(
            f"invalid JSON: {error.msg}",
            format=format,
            location=f"line {error.lineno}, column {error.colno} (character {error.pos})",
        ) from error
    values, keys = _json_rows(document)
    rejects: list[dict] = []
    tally = Tally()
    records = _objects(values, source_name, rejects, tally)
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


def _objects(
    values: Iterable[object], source_name: str, rejects: list[dict], tally: Tally
) -> Iterator[tuple[int, dict]]:
    for number, value in enumerate(values, start=1):
        tally.read += 1
        if isinstance(value, dict):
            yield number, value
        else:
            raw = orjson.dumps(value).decode()
            rejects.append(rejected_row(source_name, number, raw, "not a JSON object"))
