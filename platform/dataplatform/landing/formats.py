"""Turn a landed CSV, TSV, JSON, JSON Lines, XLSX or Parquet file into a stream of Arrow batches."""

import codecs
import csv
import datetime
import io
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import chain, islice
from pathlib import Path

import charset_normalizer
import numpy as np
import openpyxl
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from openpyxl.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
}
SNIFF_BYTES = 64 * 1024
SNIFF_CHARS = 8 * 1024  # csv.Sniffer's regular expressions are quadratic on some inputs
# The CSV block is the longest record accepted and the sample that decides column types; pyarrow
# reads up to 32 blocks ahead, so it also bounds memory.
BLOCK_BYTES = 4 * 1024 * 1024
SAMPLE_ROWS = 10_000
PROBE_ROWS = 1_000
BATCH_ROWS = 50_000
BATCH_BYTES = 32 * 1024 * 1024
DELIMITERS = ",;\t|"
FALLBACK_ENCODING = "cp1252"
FALLBACK_ERRORS = "dataplatform-cp1252-fallback"
BINARY_SIGNATURES = {
    b"PK\x03\x04": "a zip archive",
    b"PAR1": "a Parquet file",
    b"\x1f\x8b": "a gzip archive",
    b"%PDF": "a PDF document",
}
INFERRED_TYPES = [
    pa.int64(),
    pa.float64(),
    pa.bool_(),
    pa.date32(),
    pa.timestamp("us", tz="UTC"),
    pa.timestamp("us"),
]
CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)
PROVENANCE = [
    pa.field("_source_file", pa.string()),
    pa.field("_row_number", pa.int64()),
    pa.field("_sheet", pa.string()),
]
TYPE_FAMILIES = {
    "number": lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t),
    "text": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "bytes": lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t),
    "time": lambda t: pa.types.is_timestamp(t) or pa.types.is_date(t),
}

Row = tuple[int, str | None, list[str | None]]  # (row number, sheet, text of every column)


def _decode_as_fallback(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are read as cp1252, the usual culprit."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    undecodable = error.object[error.start : error.end]
    return undecodable.decode(FALLBACK_ENCODING, errors="replace"), error.end


codecs.register_error(FALLBACK_ERRORS, _decode_as_fallback)


class LandingFileError(Exception):
    """The file as a whole cannot be converted; says what is wrong and where."""

    def __init__(
        self,
        reason: str,
        *,
        format: str | None = None,
        location: str | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.reason = reason
        self.format = format
        self.location = location
        self.expected = expected
        self.found = found
        super().__init__(reason)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "reason": self.reason,
            "format": self.format,
            "location": self.location,
            "expected": self.expected,
            "found": self.found,
        }

    def __str__(self) -> str:
        details = [
            f"{self.format} file" if self.format else None,
            f"at {self.location}" if self.location else None,
            f"expected {self.expected}" if self.expected else None,
            f"found {self.found}" if self.found else None,
        ]
        present = [detail for detail in details if detail]
        message = f"{self.reason} ({', '.join(present)})" if present else self.reason
        return " ".join(message.split())


@dataclass
class Conversion:
    """A landed file being converted: its batches are read once, and fill `rejects` as they go."""

    format: str
    encoding: str | None
    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    rejects: list[dict] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)


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
    head = _head(path, SNIFF_BYTES)
    if not head.removeprefix(codecs.BOM_UTF8).strip():
        raise LandingFileError("empty file", format=format, location="byte 0")
    opener = {
        "csv": _open_csv,
        "tsv": _open_csv,
        "json": _open_json,
        "jsonl": _open_json_lines,
        "xlsx": _open_xlsx,
        "parquet": _open_parquet,
    }[format]
    conversion = opener(path, source_name, format, head, contract)
    conversion.batches = _read_ahead(_regrouped(conversion.batches))
    return conversion


def _regrouped(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Batches of about BATCH_BYTES, none empty: each becomes a Parquet row group downstream, and
    small row groups are slow to write and to read."""
    group: list[pa.RecordBatch] = []
    size = 0
    for batch in batches:
        if batch.num_rows:
            group.append(batch)
            size += batch.nbytes
        if size >= BATCH_BYTES:
            yield _combined(group)
            group, size = [], 0
    if group:
        yield _combined(group)


def _combined(group: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(group) == 1:
        return group[0]
    return pa.Table.from_batches(group).combine_chunks().to_batches()[0]


def _read_ahead(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Convert the next batch in a worker thread while the consumer writes this one: pyarrow
    parses, casts and writes Parquet without the GIL, so the two overlap."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        pending = worker.submit(next, batches, None)
        while (batch := pending.result()) is not None:
            pending = worker.submit(next, batches, None)
            yield batch


@dataclass
class _Target:
    """The decided columns of one file, and how a batch of its values is brought to them."""

    names: list[str]
    types: list[pa.DataType]
    source_name: str
    rejects: list[dict]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([*map(pa.field, self.names, self.types), *PROVENANCE])

    def batch(
        self, columns: list[pa.Array], numbers: np.ndarray, sheets: list[str | None] | None = None
    ) -> pa.RecordBatch:
        """Cast every column to its decided type; a row with a value that does not fit is
        rejected with the reason, the others are kept with their provenance."""
        problems: dict[int, list[str]] = {}
        typed = []
        for name, values, type_ in zip(self.names, columns, self.types, strict=True):
            cast, failed = _cast_rows(values, type_)
            typed.append(cast)
            for row in failed:
                problems.setdefault(row, []).append(
                    f"{name}: {_value(values, row)!r} is not {type_}"
                )
        count = len(numbers)
        provenance = [
            pa.repeat(self.source_name, count),
            pa.array(numbers, pa.int64()),
            pa.nulls(count, pa.string()) if sheets is None else pa.array(sheets, pa.string()),
        ]
        batch = pa.RecordBatch.from_arrays([*typed, *provenance], schema=self.schema)
        if not problems:
            return batch
        for row, reasons in problems.items():
            raw = {
                name: _value(values, row) for name, values in zip(self.names, columns, strict=True)
            }
            self.rejects.append(
                _reject(
                    self.source_name,
                    int(numbers[row]),
                    orjson.dumps(raw, default=str).decode(),
                    "; ".join(reasons),
                    sheets[row] if sheets else None,
                )
            )
        keep = np.ones(count, dtype=bool)
        keep[list(problems)] = False
        return batch.filter(pa.array(keep))


def _value(values: pa.Array, row: int) -> object:
    """A value for a reject, with bytes that are not UTF-8 read as cp1252."""
    scalar = values[row]
    if pa.types.is_string(values.type) and scalar.is_valid:
        return _decode(scalar.as_buffer().to_pybytes(), "utf-8")
    return scalar.as_py()


def _reject(source_name: str, number: int, raw: str, reason: str, sheet: str | None = None) -> dict:
    return {
        "_source_file": source_name,
        "_sheet": sheet,
        "_row_number": number,
        "_raw": raw,
        "_reject_reason": reason,
    }


def _cast_rows(values: pa.Array, type_: pa.DataType) -> tuple[pa.Array, list[int]]:
    """The values cast to `type_` (those that do not fit as nulls) and the positions that do not."""
    try:
        return values.cast(type_), []
    except CAST_ERRORS:
        failed = _failing_positions(values, type_)
        unfit = np.zeros(len(values), dtype=bool)
        unfit[failed] = True
        nulls = pa.nulls(len(failed), values.type)
        return pc.replace_with_mask(values, pa.array(unfit), nulls).cast(type_), failed


def _failing_positions(values: pa.Array, type_: pa.DataType) -> list[int]:
    """Bisect to the values that do not cast: a few bad values cost a few casts of halves."""
    try:
        values.cast(type_)
        return []
    except CAST_ERRORS:
        if len(values) == 1:
            return [0]
        middle = len(values) // 2
        right = _failing_positions(values[middle:], type_)
        return _failing_positions(values[:middle], type_) + [middle + row for row in right]


def _infer_type(values: pa.Array) -> pa.DataType:
    """The first of INFERRED_TYPES that every value of a text sample fits, else string."""
    present = values.drop_null()
    if len(present) == 0:
        return pa.string()
    for candidate in INFERRED_TYPES:
        try:
            # A failing cast is slow on a long array; most candidates fail on the first values.
            present[:PROBE_ROWS].cast(candidate)
            present.cast(candidate)
        except CAST_ERRORS:
            continue
        # Codes such as "007" or "01234" look numeric but lose their leading zeros as numbers.
        numeric = pa.types.is_integer(candidate) or pa.types.is_floating(candidate)
        if numeric and pc.any(pc.match_substring_regex(present, r"^[+-]?0\d")).as_py():
            return pa.string()
        return candidate
    return pa.string()


def _target(
    names: list[str],
    sample: list[pa.Array],
    contract: pa.Schema | None,
    format: str,
    source_name: str,
    rejects: list[dict],
) -> _Target:
    """Types inferred from a text sample, overridden by the contract where it has the column."""
    types = [_infer_type(values) for values in sample]
    if contract is not None:
        types = _contract_types(
            pa.schema(list(zip(names, types, strict=True))), contract, format, typed=False
        )
    return _Target(names, types, source_name, rejects)


def _contract_types(
    found: pa.Schema, contract: pa.Schema, format: str, *, typed: bool
) -> list[pa.DataType]:
    """The column types to convert to; a missing contract column, or (for a typed file) a column
    of another kind of type than the contract's, fails the file."""
    problems = [f"missing column {name}" for name in contract.names if name not in found.names]
    if typed:
        problems += [
            f"{name} is {found.field(name).type}, not {contract.field(name).type}"
            for name in contract.names
            if name in found.names
            and _family(found.field(name).type) not in ("any", _family(contract.field(name).type))
        ]
    if problems:
        raise LandingFileError(
            f"file contradicts its contract: {'; '.join(problems)}",
            format=format,
            expected=_describe(contract),
            found=_describe(found),
        )
    return [
        contract.field(column.name).type if column.name in contract.names else column.type
        for column in found
    ]


def _family(type_: pa.DataType) -> str:
    if pa.types.is_dictionary(type_):
        return _family(type_.value_type)
    if pa.types.is_null(type_):
        return "any"
    return next((name for name, member in TYPE_FAMILIES.items() if member(type_)), str(type_))


def _describe(schema: pa.Schema) -> str:
    return ", ".join(f"{column.name}: {column.type}" for column in schema)


def _column_names(raw: Iterable[str | None]) -> list[str]:
    """snake_case names, `column_<n>` for empty ones, `name_2`, `name_3`... for repeats."""
    names: list[str] = []
    for position, name in enumerate(raw, start=1):
        base = _snake_case(name or "") or f"column_{position}"
        unique, repeat = base, 1
        while unique in names:
            repeat += 1
            unique = f"{base}_{repeat}"
        names.append(unique)
    return names


def _snake_case(name: str) -> str:
    name = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", name.strip())
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"[\W_]+", "_", name).strip("_").lower()


def _head(path: Path, size: int) -> bytes:
    with path.open("rb") as file:
        return file.read(size)


def _text_encoding(head: bytes, format: str, *, complete: bool) -> str:
    """The encoding of a text file judged by its head; binary content fails the file."""
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
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
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


def _decode(raw: bytes, encoding: str) -> str:
    return raw.decode(encoding, errors=FALLBACK_ERRORS)


def _delimiter(text: str, format: str) -> str:
    """The delimiter csv.Sniffer sees in the first complete lines, else the format's own."""
    lines = text[:SNIFF_CHARS]
    if "\n" in lines:
        lines = lines[: lines.rindex("\n")]
    default = "\t" if format == "tsv" else ","
    sniffer = csv.Sniffer()
    sniffer.preferred = [default]  # of several delimiters that fit, the extension's wins
    try:
        return sniffer.sniff(lines, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return default


def _open_csv(
    path: Path, source_name: str, format: str, head: bytes, contract: pa.Schema | None
) -> Conversion:
    encoding = _text_encoding(head, format, complete=len(head) < SNIFF_BYTES)
    delimiter = _delimiter(_decode(head, encoding), format)
    # pyarrow reads UTF-8, with or without a BOM, itself and cp1252 through Python's codec.
    reader_encoding = FALLBACK_ENCODING if encoding == FALLBACK_ENCODING else "utf8"
    width = _field_count(_header_head(path, head, format), reader_encoding, delimiter)
    rejects: list[dict] = []
    records = _CsvRecords(path, source_name, format, reader_encoding, rejects)
    blocks = records.read(
        partial(_csv_reader, path, width, reader_encoding, delimiter, records.skip)
    )
    first = [_text(values) for values in next(blocks).columns]  # the header is the first record
    names = _column_names(values[0].as_py() for values in first)
    sample = [values[1:] for values in first]
    target = _target(names, sample, contract, format, source_name, rejects)
    rest = (_csv_columns(block, target.types) for block in blocks)
    return Conversion(
        format, encoding, target.schema, records.batches(sample, rest, target), rejects
    )


def _header_head(path: Path, head: bytes, format: str) -> bytes:
    """The head of the file, read further if needed to hold the whole first line."""
    if b"\n" in head or len(head) < SNIFF_BYTES:
        return head
    head = _head(path, BLOCK_BYTES)
    if b"\n" not in head and len(head) == BLOCK_BYTES:
        raise LandingFileError(
            f"the first line is longer than {BLOCK_BYTES >> 20} MiB",
            format=format,
            location="line 1",
        )
    return head


def _csv_reader(
    path: Path,
    width: int,
    encoding: str,
    delimiter: str,
    skip: Callable[[pa_csv.InvalidRow], str],
) -> pa_csv.CSVStreamingReader:
    """A reader of every field as bytes, the header being the first row."""
    positions = [f"f{position}" for position in range(width)]
    return pa_csv.open_csv(
        path,
        read_options=pa_csv.ReadOptions(
            encoding=encoding,
            block_size=BLOCK_BYTES,
            use_threads=False,  # serial parsing keeps skipped rows in step with the batches
            column_names=positions,
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=delimiter, newlines_in_values=True, invalid_row_handler=skip
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(positions, pa.binary()),
            null_values=[""],
            strings_can_be_null=True,
        ),
    )


def _field_count(head: bytes, encoding: str, delimiter: str) -> int:
    """How many fields the header has, as pyarrow parses it."""
    reader = pa_csv.open_csv(
        io.BytesIO(head + b"\n"),  # pyarrow cannot size up a lone line without a line break
        read_options=pa_csv.ReadOptions(encoding=encoding, autogenerate_column_names=True),
        parse_options=pa_csv.ParseOptions(
            delimiter=delimiter, newlines_in_values=True, invalid_row_handler=lambda _: "skip"
        ),
        convert_options=pa_csv.ConvertOptions(check_utf8=False),
    )
    return len(reader.schema)


def _csv_columns(block: pa.RecordBatch, types: list[pa.DataType]) -> list[pa.Array]:
    """The block's bytes as text; only text that is kept as text is checked for being UTF-8,
    other values either parse as their type or are rejected."""
    return [
        _text(values) if pa.types.is_string(type_) else values.view(pa.string())
        for values, type_ in zip(block.columns, types, strict=True)
    ]


def _text(values: pa.Array) -> pa.Array:
    """Binary CSV values as text; a value that is not UTF-8 is decoded byte-wise as cp1252."""
    try:
        return values.cast(pa.string())
    except pa.ArrowInvalid:
        return pa.array(
            [None if raw is None else _decode(raw, "utf-8") for raw in values.to_pylist()],
            pa.string(),
        )


class _CsvRecords:
    """Numbers the records of a streaming CSV reader; the rows it skips become rejects."""

    def __init__(
        self, path: Path, source_name: str, format: str, encoding: str, rejects: list[dict]
    ) -> None:
        self.path = path
        self.source_name = source_name
        self.format = format
        self.encoding = encoding
        self.rejects = rejects
        self.invalid: list[pa_csv.InvalidRow] = []  # reported by pyarrow, not yet handled
        self.skipped: list[int] = []  # record numbers of skipped rows not yet passed by a batch
        self.next_record = 1

    def skip(self, row: pa_csv.InvalidRow) -> str:
        self.invalid.append(row)
        return "skip"

    def read(
        self, open_reader: Callable[[], pa_csv.CSVStreamingReader]
    ) -> Iterator[pa.RecordBatch]:
        try:
            yield from open_reader()
        except (pa.ArrowInvalid, UnicodeDecodeError) as error:
            raise self.read_error(error) from error

    def read_error(self, error: Exception) -> LandingFileError:
        if "straddling" in str(error):
            return LandingFileError(
                f"a record is longer than {BLOCK_BYTES >> 20} MiB:"
                " an unterminated quoted field or an over-long line",
                format=self.format,
                location=f"record {self.next_record}",
            )
        return LandingFileError(
            f"unreadable CSV: {error}", format=self.format, location=f"record {self.next_record}"
        )

    def batches(
        self, first: list[pa.Array], blocks: Iterator[list[pa.Array]], target: _Target
    ) -> Iterator[pa.RecordBatch]:
        last: list[pa.Array] = first
        for columns in chain([first], blocks):
            yield target.batch(columns, self.numbers(len(columns[0])))
            last = columns if len(columns[0]) else last
        self.numbers(0)
        if len(last[0]):
            self.check_last_value(_value(last[-1], len(last[-1]) - 1))

    def numbers(self, count: int) -> np.ndarray:
        """The record numbers of the next `count` rows, around the rows pyarrow skipped."""
        for row in self.invalid:
            self.reject(row)
        self.invalid.clear()
        start = self.next_record
        candidates = np.arange(start, start + count + len(self.skipped), dtype=np.int64)
        numbers = candidates[~np.isin(candidates, self.skipped)][:count]
        if count:
            self.next_record = int(numbers[-1]) + 1
        self.skipped = [number for number in self.skipped if number >= self.next_record]
        return numbers

    def reject(self, row: pa_csv.InvalidRow) -> None:
        number = row.number - 1  # pyarrow counts the header as row 1
        if number == 0:
            raise LandingFileError(
                "the header could not be parsed", format=self.format, location="line 1"
            )
        # An opening quote that is never closed swallows the rest of the file into one row.
        if row.text.count('"') % 2 and self.runs_to_end(row.text):
            raise self.unterminated_quote(row.text)
        self.skipped.append(number)
        self.rejects.append(
            _reject(
                self.source_name,
                number,
                row.text,
                f"expected {row.expected_columns} fields, found {row.actual_columns}",
            )
        )

    def check_last_value(self, value: object) -> None:
        """pyarrow accepts a quote left open at the end of the file: the value it opened then
        runs over lines up to the end of the file, where a closing quote would otherwise be."""
        if isinstance(value, str) and self.runs_to_end(value):
            raise self.unterminated_quote(value)

    def runs_to_end(self, text: str) -> bool:
        """Whether `text` spans lines and ends the file."""
        ending = text.rstrip("\r\n")[-SNIFF_CHARS:].encode(self.encoding, errors="replace")
        return "\n" in text and _tail(self.path).rstrip(b"\r\n").endswith(ending)

    def unterminated_quote(self, tail: str) -> LandingFileError:
        return LandingFileError(
            "unterminated quoted field: a quote is opened and never closed",
            format=self.format,
            location=f"line {_line_where_tail_starts(self.path, tail)}",
            found=repr(tail[:60]),
        )


def _tail(path: Path) -> bytes:
    with path.open("rb") as file:
        file.seek(max(path.stat().st_size - SNIFF_BYTES, 0))
        return file.read()


def _line_where_tail_starts(path: Path, tail: str) -> int:
    """The line on which `tail`, text that runs to the end of the file, starts."""
    newlines, last = 0, b""
    with path.open("rb") as file:
        for chunk in iter(partial(file.read, BLOCK_BYTES), b""):
            newlines += chunk.count(b"\n")
            last = chunk
    trailing = last[len(last.rstrip(b"\r\n")) :].count(b"\n")
    return newlines - trailing + 1 - tail.rstrip("\r\n").count("\n")


def _open_json(
    path: Path, source_name: str, format: str, head: bytes, contract: pa.Schema | None
) -> Conversion:
    encoding = _text_encoding(head, format, complete=len(head) < SNIFF_BYTES)
    if _looks_like_json_lines(head, encoding):
        return _open_json_lines(path, source_name, "jsonl", head, contract)
    try:
        document = orjson.loads(_decode(path.read_bytes(), encoding))
    except orjson.JSONDecodeError as error:
        raise LandingFileError(
            f"invalid JSON: {error.msg}",
            format=format,
            location=f"line {error.lineno}, column {error.colno} (character {error.pos})",
        ) from error
    values, keys = _json_rows(document)
    rejects: list[dict] = []
    records = _objects(values, source_name, rejects)
    keys = keys or list(
        dict.fromkeys(key for value in values if isinstance(value, dict) for key in value)
    )
    return _records_conversion(format, encoding, records, keys, source_name, rejects, contract)


def _looks_like_json_lines(head: bytes, encoding: str) -> bool:
    """A `.json` file that holds one object per line is JSON Lines."""
    first, _, rest = _decode(head, encoding).partition("\n")
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
    values: Iterable[object], source_name: str, rejects: list[dict]
) -> Iterator[tuple[int, dict]]:
    for number, value in enumerate(values, start=1):
        if isinstance(value, dict):
            yield number, value
        else:
            raw = orjson.dumps(value).decode()
            rejects.append(_reject(source_name, number, raw, "not a JSON object"))


def _open_json_lines(
    path: Path, source_name: str, format: str, head: bytes, contract: pa.Schema | None
) -> Conversion:
    encoding = _text_encoding(head, format, complete=len(head) < SNIFF_BYTES)
    rejects: list[dict] = []
    records = _json_lines(path, encoding, source_name, rejects)
    sample = list(islice(records, SAMPLE_ROWS))
    keys = list(dict.fromkeys(key for _, record in sample for key in record))
    records = chain(sample, records)
    return _records_conversion(format, encoding, records, keys, source_name, rejects, contract)


def _json_lines(
    path: Path, encoding: str, source_name: str, rejects: list[dict]
) -> Iterator[tuple[int, dict]]:
    """Every line's object; a line that is not a JSON object is rejected with its line number."""
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            text = _decode(line, encoding).strip()
            if not text:
                continue
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError as error:
                rejects.append(_reject(source_name, number, text, f"invalid JSON: {error}"))
                continue
            if isinstance(value, dict):
                yield number, value
            else:
                rejects.append(_reject(source_name, number, text, "not a JSON object"))


def _records_conversion(
    format: str,
    encoding: str,
    records: Iterator[tuple[int, dict]],
    keys: list[str],
    source_name: str,
    rejects: list[dict],
    contract: pa.Schema | None,
) -> Conversion:
    """Records become rows of the given keys; a record with a key the sample did not show is
    rejected, since the schema is decided before the rest is read."""
    rows = _record_rows(records, keys, source_name, rejects)
    sample = list(islice(rows, SAMPLE_ROWS))
    names = _column_names(keys)
    target = _target(names, _columns(sample, len(names)), contract, format, source_name, rejects)
    return Conversion(
        format, encoding, target.schema, _row_batches(chain(sample, rows), target), rejects
    )


def _record_rows(
    records: Iterator[tuple[int, dict]], keys: list[str], source_name: str, rejects: list[dict]
) -> Iterator[Row]:
    known = set(keys)
    for number, record in records:
        unknown = record.keys() - known
        if unknown:
            raw = orjson.dumps(record, default=str).decode()
            reason = f"fields not in the sampled schema: {', '.join(sorted(unknown))}"
            rejects.append(_reject(source_name, number, raw, reason))
        else:
            yield number, None, [_cell_text(record.get(key)) for key in keys]


def _cell_text(value: object) -> str | None:
    """A JSON or spreadsheet value as the text the type casts read."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def _columns(rows: list[Row], width: int) -> list[pa.Array]:
    return [pa.array([texts[index] for _, _, texts in rows], pa.string()) for index in range(width)]


def _row_batches(rows: Iterator[Row], target: _Target) -> Iterator[pa.RecordBatch]:
    while chunk := list(islice(rows, BATCH_ROWS)):
        numbers = np.array([number for number, _, _ in chunk], dtype=np.int64)
        sheets = [sheet for _, sheet, _ in chunk]
        yield target.batch(_columns(chunk, len(target.names)), numbers, sheets)


@dataclass
class _Sheet:
    """A worksheet's header and, once the union of all headers is known, its aligned rows."""

    name: str
    header_row: int
    first: int  # the position of the first header cell
    names: list[str]
    cells: Iterator[tuple[int, tuple]]  # (Excel row number, cell values) after the header


def _open_xlsx(
    path: Path, source_name: str, format: str, head: bytes, contract: pa.Schema | None
) -> Conversion:
    """Every worksheet with a header row; the schema is the union of their columns, a column a
    sheet lacks is null there. Empty worksheets and chart sheets are skipped."""
    if not head.startswith(b"PK\x03\x04"):
        raise LandingFileError(
            "not an xlsx workbook",
            format=format,
            location="byte 0",
            expected="a zip archive",
            found=f"{head[:8]!r}",
        )
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    # openpyxl reports a damaged archive as any of zipfile, XML, key or value errors.
    except Exception as error:
        raise LandingFileError(
            f"unreadable xlsx workbook: {error}", format=format, location="workbook"
        ) from error
    sheets = [sheet for sheet in map(_sheet, workbook.worksheets) if sheet is not None]
    if not sheets:
        raise LandingFileError(
            "no worksheet has data",
            format=format,
            location="workbook",
            found=str(workbook.sheetnames),
        )
    names = list(dict.fromkeys(name for sheet in sheets for name in sheet.names))
    rejects: list[dict] = []
    aligned = [_sheet_rows(sheet, names, source_name, rejects) for sheet in sheets]
    samples = [list(islice(rows, SAMPLE_ROWS)) for rows in aligned]
    sample = list(chain.from_iterable(samples))
    target = _target(names, _columns(sample, len(names)), contract, format, source_name, rejects)
    rows = chain.from_iterable(chain(*pair) for pair in zip(samples, aligned, strict=True))
    return Conversion(
        format,
        None,
        target.schema,
        _closing(_row_batches(rows, target), workbook),
        rejects,
        [sheet.name for sheet in sheets],
    )


def _sheet(worksheet: ReadOnlyWorksheet) -> _Sheet | None:
    """The worksheet's first non-empty row as its header, or None for an empty sheet."""
    rows = enumerate(_worksheet_rows(worksheet), start=1)
    for number, values in rows:
        filled = [position for position, value in enumerate(values) if value not in (None, "")]
        if filled:
            header = values[filled[0] : filled[-1] + 1]
            names = _column_names(_cell_text(value) for value in header)
            return _Sheet(worksheet.title, number, filled[0], names, rows)
    return None


def _worksheet_rows(worksheet: ReadOnlyWorksheet) -> Iterator[tuple]:
    try:
        yield from worksheet.iter_rows(values_only=True)
    # openpyxl reports a damaged sheet as any of zipfile, XML, key or value errors.
    except Exception as error:
        raise LandingFileError(
            f"unreadable worksheet: {error}", format="xlsx", location=f"sheet {worksheet.title!r}"
        ) from error


def _sheet_rows(
    sheet: _Sheet, names: list[str], source_name: str, rejects: list[dict]
) -> Iterator[Row]:
    """Rows aligned to the union of columns, numbered from the first row after the header; a row
    with values outside the header's columns is rejected."""
    positions = [names.index(name) for name in sheet.names]
    last = sheet.first + len(positions)
    for excel_row, values in sheet.cells:
        if all(value in (None, "") for value in values):
            continue
        number = excel_row - sheet.header_row
        texts = [_cell_text(value) for value in values]
        outside = [text for text in texts[: sheet.first] + texts[last:] if text is not None]
        if outside:
            raw = orjson.dumps(texts).decode()
            reason = f"{len(outside)} values outside the header's columns"
            rejects.append(_reject(source_name, number, raw, reason, sheet.name))
            continue
        aligned: list[str | None] = [None] * len(names)
        for position, text in zip(positions, texts[sheet.first : last], strict=False):
            aligned[position] = text
        yield number, sheet.name, aligned


def _closing(batches: Iterator[pa.RecordBatch], workbook: Workbook) -> Iterator[pa.RecordBatch]:
    try:
        yield from batches
    finally:
        workbook.close()


def _open_parquet(
    path: Path, source_name: str, format: str, head: bytes, contract: pa.Schema | None
) -> Conversion:
    """The file's own types; a contract only fails the file or casts its columns."""
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise LandingFileError(
            f"unreadable Parquet file: {error}",
            format=format,
            location="footer",
            expected="a Parquet file",
            found=f"{head[:4]!r} ...",
        ) from error
    file_schema = parquet.schema_arrow
    found = pa.schema(list(zip(_column_names(file_schema.names), file_schema.types, strict=True)))
    types = (
        found.types if contract is None else _contract_types(found, contract, format, typed=True)
    )
    rejects: list[dict] = []
    target = _Target(found.names, types, source_name, rejects)
    return Conversion(format, None, target.schema, _parquet_batches(parquet, target), rejects)


def _parquet_batches(parquet: pq.ParquetFile, target: _Target) -> Iterator[pa.RecordBatch]:
    start = 1
    try:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            numbers = np.arange(start, start + batch.num_rows, dtype=np.int64)
            start += batch.num_rows
            yield target.batch(batch.columns, numbers)
    except (pa.ArrowInvalid, OSError) as error:
        raise LandingFileError(
            f"unreadable Parquet data: {error}", format="parquet", location=f"row {start}"
        ) from error
