"""Picks a landed file's format by its extension (of the file inside, for an archive) and opens
the file with that format's reader."""

import shutil
import weakref
from pathlib import Path

import pyarrow as pa

from dataplatform.landing.formats import limits
from dataplatform.landing.formats.archives import ARCHIVES, removing, temporary_folder, unpack
from dataplatform.landing.formats.conversion import Conversion, read_ahead, regrouped
from dataplatform.landing.formats.delimited import open_csv
from dataplatform.landing.formats.detection import BOM, bom_encoding, decode, read_head
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
    converted become `rejects`, a file that cannot be converted raises `LandingFileError`.

    A gzip file, or a zip archive of one file, is read as the file inside it."""
    path = Path(path)
    if path.suffix.lower() not in ARCHIVES:
        return _open(path, source_name, contract)
    folder = temporary_folder()
    try:
        conversion = _open(unpack(path, folder), source_name, contract)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    conversion.compression = ARCHIVES[path.suffix.lower()]
    conversion.batches = removing(conversion.batches, folder)
    # If the batches are never read, the copy goes with the conversion.
    weakref.finalize(conversion, shutil.rmtree, folder, ignore_errors=True)
    return conversion


def _open(path: Path, source_name: str, contract: pa.Schema | None) -> Conversion:
    format = FORMATS.get(path.suffix.lower())
    if format is None:
        raise LandingFileError(
            "unsupported file type",
            expected="one of " + ", ".join([*FORMATS, *ARCHIVES]),
            found=path.suffix or "no extension",
        )
    head = read_head(path, limits.SNIFF_BYTES)
    if not decode(head, bom_encoding(head) or "utf-8").lstrip(BOM).strip():
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
