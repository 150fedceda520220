"""Landed files for the format tests, converted to one table or to one file error."""

import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from dataplatform.landing.formats import Conversion, LandingFileError, open_landed_file

PROVENANCE = ["_source_file", "_row_number", "_sheet"]
LISTENS_CSV = (
    "listen_id,userId,ms_played,Listened At,skipped,score\n"
    "L1,1,1000,2026-03-04T10:00:00Z,true,0.5\n"
    "L2,2,2500,2026-03-04T11:30:00Z,false,1.25\n"
)


def landed(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def convert(path: Path, contract: pa.Schema | None = None) -> tuple[Conversion, pa.Table]:
    conversion = open_landed_file(path, path.name, contract)
    batches = list(conversion.batches)
    assert all(batch.schema == conversion.schema for batch in batches)
    return conversion, pa.Table.from_batches(batches, schema=conversion.schema)


def file_error(path: Path, contract: pa.Schema | None = None) -> dict[str, str | None]:
    with pytest.raises(LandingFileError) as raised:
        list(open_landed_file(path, path.name, contract).batches)
    assert "\n" not in str(raised.value)
    return raised.value.as_dict()


def data_columns(table: pa.Table) -> dict[str, list]:
    return table.drop_columns(PROVENANCE).to_pydict()


def with_cached_values(path: Path, values: dict[str, str]) -> None:
    """Store a calculated value for the formulas given, as a spreadsheet program saves them
    (openpyxl writes formulas without one)."""
    with zipfile.ZipFile(path) as archive:
        parts = {info: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, content in parts.items():
            if info.filename.startswith("xl/worksheets/"):
                for formula, value in values.items():
                    content = content.replace(
                        f"<f>{formula}</f><v />".encode(),
                        f"<f>{formula}</f><v>{value}</v>".encode(),
                    )
            archive.writestr(info, content)
