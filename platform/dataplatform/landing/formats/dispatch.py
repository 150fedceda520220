"""Picks a landed file's format by its extension and opens the file with that format's reader."""

import codecs
from pathlib import Path

import pyarrow as pa

from dataplatform.landing.formats import limits
from dataplatform.landing.formats.conversion import Conversion, read_ahead, regrouped
from dataplatform.landing.formats.delimited import open_csv
from dataplatform.landing.formats.detection import read_head
from dataplatform.landing.formats.errors import LandingFileError
from dataplatform.landing.formats.json_document import open_json
from dataplatform.landing.formats.json_lines import open_json_lines
from dataplatform.landing.formats.parquet import open_parquet
from dataplatform.landing.formats.xlsx import open_xlsx

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
}


def open_landed_file(path: Path, source_name: str, contract: pa.Schema | None = None) -> Conversion:
    """Decide how to read `path` and return its lazily converted batches; rows that cannot be
    converted become `rejects`, a file that cannot be converted raises `LandingFileError`."""
    path = Path(path)
    format = FORMATS.get(path.suffix.lower())
    if format is None:
        raise LandingFileError(
            "unsupported file type",
            expected="one of " + ", ".join(FORMATS),
            found=path.suffix or "no extension",
        )
    head = read_head(path, limits.SNIFF_BYTES)
    if not head.removeprefix(codecs.BOM_UTF8).strip():
        raise LandingFileError("empty file", format=format, location="byte 0")
    opener = {
        "csv": open_csv,
        "tsv": open_csv,
        "json": open_json,
        "jsonl": open_json_lines,
        "xlsx": open_xlsx,
        "parquet": open_parquet,
    }[format]
    conversion = opener(path, source_name, format, head, contract)
    conversion.batches = read_ahead(regrouped(conversion.batches))
    return conversion
