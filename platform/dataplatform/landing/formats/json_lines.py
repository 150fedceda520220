"""Reads a JSON Lines file, one object per line, rejecting the lines that are not an object."""

from collections.abc import Iterator
from itertools import chain, islice
from pathlib import Path

import orjson
import pyarrow as pa

from dataplatform.landing.formats import limits
from dataplatform.landing.formats.casting import rejected_row
from dataplatform.landing.formats.conversion import Conversion, Tally
from dataplatform.landing.formats.detection import BOM, FALLBACK_ERRORS, text_encoding
from dataplatform.landing.formats.records import records_conversion


def open_json_lines(
    path: Path, source_name: str, format: str, head: bytes, contract: pa.Schema | None
) -> Conversion:
    encoding = text_encoding(head, format, complete=len(head) < limits.SNIFF_BYTES)
    rejects: list[dict] = []
    tally = Tally()
    records = _json_lines(path, encoding, source_name, rejects, tally)
    sample = list(islice(records, limits.SAMPLE_ROWS))
    keys = list(dict.fromkeys(key for _, record in sample for key in record))
    records = chain(sample, records)
    return records_conversion(
        format, encoding, records, keys, source_name, rejects, contract, tally
    )


def _json_lines(
    path: Path, encoding: str, source_name: str, rejects: list[dict], tally: Tally
) -> Iterator[tuple[int, dict]]:
    """Every line's object; a line that is not a JSON object is rejected with its line number."""
    with path.open(encoding=encoding, errors=FALLBACK_ERRORS, newline="\n") as file:
        for number, line in enumerate(file, start=1):
            text = line.strip().lstrip(BOM)
            if not text:
                continue
            tally.read += 1
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError as error:
                rejects.append(rejected_row(source_name, number, text, f"invalid JSON: {error}"))
                continue
            if isinstance(value, dict):
                yield number, value
            else:
                rejects.append(rejected_row(source_name, number, text, "not a JSON object"))
