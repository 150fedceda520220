"""A corpus of awkward landed files, written by code, each with the outcome it must have."""

import gzip
import io
import json
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

from platform_tests.landing.formats.landed_files import with_cached_values

CITIES = "city,count\nZürich,1\nKöln,2\nMontréal,3\n"


@dataclass(frozen=True)
class Landed:
    """Converted: this many rows landed and this many rejected (row by row)."""

    rows: int
    rejected: int = 0
    values: dict[str, list] = field(default_factory=dict)  # some landed columns, in order
    skipped_sheets: int = 0


@dataclass(frozen=True)
class Quarantined:
    """Not converted: moved aside with a reason starting with this text."""

    reason: str


@dataclass(frozen=True)
class Duplicate:
    """The same bytes as `of`: archived without a run."""

    of: str


Outcome = Landed | Quarantined | Duplicate


@dataclass(frozen=True)
class CorpusFile:
    name: str
    content: Callable[[], bytes]
    outcome: Outcome


def text(value: str, encoding: str = "utf-8") -> Callable[[], bytes]:
    return lambda: value.encode(encoding)


def gzipped(value: bytes) -> Callable[[], bytes]:
    return lambda: gzip.compress(value, mtime=0)


def zipped(*members: tuple[str, bytes]) -> Callable[[], bytes]:
    def archive() -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as packed:
            for name, content in members:
                packed.writestr(name, content)
        return buffer.getvalue()

    return archive


def parquet(cut: int = 0) -> Callable[[], bytes]:
    def table() -> bytes:
        buffer = io.BytesIO()
        pq.write_table(pa.table({"id": [1, 2, 3], "city": ["Zürich", "Köln", "Montréal"]}), buffer)
        whole = buffer.getvalue()
        return whole[: len(whole) - cut]

    return table


def workbook(folder: Path, name: str, *, formulas: bool = False) -> Callable[[], bytes]:
    """Two sheets with data, one empty; with `formulas`, one calculated and one not."""

    def write() -> bytes:
        book = openpyxl.Workbook()
        north = book.active
        north.title = "North"
        for row in (["city", "count"], ["Zürich", 1], ["Köln", 2]):
            north.append(row)
        south = book.create_sheet("South")
        for row in (["city", "count", None], ["Montréal", "=1+2", None], ["Lyon", 4, "stray"]):
            south.append(row)
        if formulas:
            south.append(["Nice", "=2+3"])
        book.create_sheet("Empty")
        path = folder / name
        book.save(path)
        with_cached_values(path, {"1+2": "3"})  # as Excel saves it; 2+3 never calculated
        return path.read_bytes()

    return write


def noise(size: int) -> Callable[[], bytes]:
    return lambda: random.Random(19).randbytes(size)


def corpus(scratch: Path) -> list[CorpusFile]:
    """At least 30 files: encodings, delimiters, ragged rows, quotes, formulas, several sheets,
    compression, the same bytes under other names, huge fields, empty and binary files."""
    cities = Landed(3, values={"city": ["Zürich", "Köln", "Montréal"]})
    plays = "id,plays\n" + "".join(f"{n},{n * 10}\n" for n in range(1, 21)) + "21,n/a\n"
    wide = "id,note\n1," + "x" * (1 << 20) + "\n2,short\n"
    return [
        CorpusFile("cities.csv", text(CITIES), cities),
        CorpusFile("cities_copy.csv", text(CITIES), Duplicate("cities.csv")),
        # Files are taken in name order: the copies sort after the original.
        CorpusFile("kopie \u2013 Städte.csv", text(CITIES), Duplicate("cities.csv")),
        CorpusFile("semicolons.csv", text(CITIES.replace(",", ";")), cities),
        CorpusFile("pipes.csv", text(CITIES.replace(",", "|")), cities),
        CorpusFile("tabs.tsv", text(CITIES.replace(",", "\t")), cities),
        CorpusFile("windows lines.csv", text(CITIES.replace("\n", "\r\n")), cities),
        CorpusFile("bom.csv", lambda: b"\xef\xbb\xbf" + CITIES.encode(), cities),
        CorpusFile("utf16le.csv", lambda: b"\xff\xfe" + CITIES.encode("utf-16-le"), cities),
        CorpusFile(
            "utf16be.tsv",
            lambda: b"\xfe\xff" + CITIES.replace(",", "\t").encode("utf-16-be"),
            cities,
        ),
        CorpusFile(
            "utf32.jsonl",
            lambda: (
                b"\xff\xfe\x00\x00" + '{"city": "Zürich"}\n{"city": "Köln"}\n'.encode("utf-32-le")
            ),
            Landed(2, values={"city": ["Zürich", "Köln"]}),
        ),
        CorpusFile("cp1252.csv", text(CITIES, "cp1252"), cities),
        CorpusFile(
            "mostly utf8.csv",
            lambda: "city,count\nKöln,2\n".encode() + "Zürich,1\n".encode("cp1252"),
            Landed(2, values={"city": ["Köln", "Zürich"]}),
        ),
        CorpusFile(
            "ragged.csv",
            text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n"),
            Landed(2, rejected=2, values={"a": [1, 10]}),
        ),
        CorpusFile(
            "quotes.csv",
            text('name,quote\n"Smith, J.","He said ""hi"""\n"Doe","two\nlines"\n'),
            Landed(2, values={"quote": ['He said "hi"', "two\nlines"]}),
        ),
        CorpusFile(
            "unterminated.csv",
            text('name,quote\nA,"never closed\nB,fine\n'),
            Quarantined("unterminated quoted field"),
        ),
        CorpusFile("blank lines.csv", text("a,b\n\n1,x\n\n\n2,y\n,\n"), Landed(2)),
        CorpusFile("header only.csv", text("a,b\n"), Landed(0)),
        CorpusFile("text in numbers.csv", text(plays), Landed(20, rejected=1)),
        CorpusFile("one MiB field.csv", text(wide), Landed(2)),
        CorpusFile(
            "ten MB line.csv",
            text("id,note\n1," + "y" * 10_000_000 + "\n2,short\n"),
            Quarantined("a record is longer than 4 MiB"),
        ),
        CorpusFile(
            "lines.jsonl",
            text('{"a": 1}\n\n{"a": 2}\nnot json\n[1, 2]\n{"a": 3}\n'),
            Landed(3, rejected=2, values={"a": [1, 2, 3]}),
        ),
        CorpusFile("array.json", text(json.dumps([{"a": 1}, {"a": 2}, 7])), Landed(2, rejected=1)),
        CorpusFile("columns.json", text(json.dumps({"a": [1, 2], "b": ["x", "y"]})), Landed(2)),
        CorpusFile("lines named json.json", text('{"a": 1}\n{"a": 2}\n'), Landed(2)),
        CorpusFile("broken.json", text('[{"a": 1}, {"a": '), Quarantined("invalid JSON")),
        CorpusFile(
            "sheets.xlsx",
            workbook(scratch, "sheets.xlsx"),
            Landed(3, rejected=1, values={"city": ["Zürich", "Köln", "Montréal"]}),
        ),
        CorpusFile(
            "formulas.xlsx",
            workbook(scratch, "formulas.xlsx", formulas=True),
            Landed(3, rejected=2, values={"count": [1, 2, 3]}),
        ),
        CorpusFile(
            "cut.xlsx",
            lambda: workbook(scratch, "cut.xlsx")()[:900],
            Quarantined("unreadable xlsx"),
        ),
        CorpusFile("cities.csv.gz", gzipped(CITIES.encode()), cities),
        CorpusFile("cities.zip", zipped(("export/cities.csv", CITIES.encode())), cities),
        CorpusFile(
            "two files.zip",
            zipped(("a.csv", b"a\n1\n"), ("b.csv", b"b\n2\n")),
            Quarantined("a zip archive of 2 files"),
        ),
        CorpusFile(
            "cut.csv.gz",
            lambda: gzipped(CITIES.encode() * 200)()[:-40],
            Quarantined("unreadable gzip archive"),
        ),
        CorpusFile("cities.parquet", parquet(), cities),
        CorpusFile("cut.parquet", parquet(cut=30), Quarantined("truncated Parquet file")),
        CorpusFile("empty.csv", text(""), Quarantined("empty file")),
        CorpusFile("binary.csv", noise(4096), Quarantined("binary content")),
        CorpusFile("notes.txt", text("just some notes\n"), Quarantined("unsupported file type")),
    ]
