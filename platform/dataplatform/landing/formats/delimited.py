"""Reads a CSV or TSV file in blocks through pyarrow, numbering its records exactly and rejecting
the ragged ones."""

import io
from collections.abc import Callable, Iterator
from functools import partial
from itertools import chain
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from dataplatform.landing.formats import limits
from dataplatform.landing.formats.casting import Target, raw_value, rejected_row
from dataplatform.landing.formats.conversion import Conversion, Tally
from dataplatform.landing.formats.detection import (
    FALLBACK_ENCODING,
    decode,
    is_wide,
    read_head,
    sniff_delimiter,
    text_encoding,
)
from dataplatform.landing.formats.errors import LandingFileError
from dataplatform.landing.formats.schema import column_names, sampled_target


def open_csv(
    path: Path, source_name: str, format: str, head: bytes, contract: pa.Schema | None
) -> Conversion:
    encoding = text_encoding(head, format, complete=len(head) < limits.SNIFF_BYTES)
    delimiter = sniff_delimiter(decode(head, encoding), format)
    # pyarrow reads UTF-8, with or without a BOM, itself and others through Python's codecs.
    python_codec = encoding == FALLBACK_ENCODING or is_wide(encoding)
    reader_encoding = encoding if python_codec else "utf8"
    width = _field_count(_header_head(path, head, format), encoding, delimiter)
    rejects: list[dict] = []
    records = _CsvRecords(path, source_name, format, reader_encoding, rejects)
    blocks = records.read(
        partial(_csv_reader, path, width, reader_encoding, delimiter, records.skip)
    )
    first = [_text(values) for values in next(blocks).columns]  # the header is the first record
    names = column_names(values[0].as_py() for values in first)
    records.next_line += int(_newlines([values[:1] for values in first])[0])
    sample = [values[1:] for values in first]
    target = sampled_target(names, sample, contract, format, source_name, rejects)
    rest = (_csv_columns(block, target.types) for block in blocks)
    return Conversion(
        format,
        encoding,
        target.schema,
        records.batches(sample, rest, target),
        rejects,
        warnings=target.warnings,
        tally=records.tally,
    )


def _header_head(path: Path, head: bytes, format: str) -> bytes:
    """The head of the file, read further if needed to hold the whole first line."""
    if b"\n" in head or len(head) < limits.SNIFF_BYTES:
        return head
    head = read_head(path, limits.BLOCK_BYTES)
    if b"\n" not in head and len(head) == limits.BLOCK_BYTES:
        raise LandingFileError(
            f"the first line is longer than {limits.BLOCK_BYTES >> 20} MiB",
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
            block_size=limits.BLOCK_BYTES,
            use_threads=False,  # serial parsing keeps skipped rows in step with the batches
            column_names=positions,
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=delimiter,
            newlines_in_values=True,
            ignore_empty_lines=False,  # kept, as empty rows, so that lines can be counted
            invalid_row_handler=skip,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(positions, pa.binary()),
            null_values=[""],
            strings_can_be_null=True,
        ),
    )


def _field_count(head: bytes, encoding: str, delimiter: str) -> int:
    """How many fields the header has, as pyarrow parses it (the head as UTF-8: a head cut in
    the middle of a UTF-16 character still decodes)."""
    text = decode(head, encoding).encode()
    reader = pa_csv.open_csv(
        io.BytesIO(text + b"\n"),  # pyarrow cannot size up a lone line without a line break
        read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
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


def _newlines(columns: list[pa.Array]) -> np.ndarray:
    """How many line breaks each row's values hold."""
    counts = [pc.count_substring(values, "\n").fill_null(0) for values in columns]  # pyright: ignore[reportAttributeAccessIssue]  # pyarrow.compute defines its kernels at import
    total = np.zeros(len(columns[0]), dtype=np.int64)
    for count in counts:
        total += count.to_numpy(zero_copy_only=False)
    return total


def _not_empty(columns: list[pa.Array]) -> np.ndarray:
    """Rows with a value: an empty line (or one of delimiters only) is no row."""
    present = np.zeros(len(columns[0]), dtype=bool)
    for values in columns:
        present |= values.is_valid().to_numpy(zero_copy_only=False)
    return present


def _text(values: pa.Array) -> pa.Array:
    """Binary CSV values as text; a value that is not UTF-8 is decoded byte-wise as cp1252."""
    try:
        return values.cast(pa.string())
    except pa.ArrowInvalid:
        return pa.array(
            [None if raw is None else decode(raw, "utf-8") for raw in values.to_pylist()],
            pa.string(),
        )


class _CsvRecords:
    """Numbers the records of a streaming CSV reader by the physical line each starts on (a quoted
    value may span lines); the rows it skips become rejects, and empty rows are no rows."""

    def __init__(
        self, path: Path, source_name: str, format: str, encoding: str, rejects: list[dict]
    ) -> None:
        self.path = path
        self.source_name = source_name
        self.format = format
        self.encoding = encoding
        self.rejects = rejects
        self.invalid: list[pa_csv.InvalidRow] = []  # reported by pyarrow, not yet handled
        # Skipped rows not yet passed by a batch: record number -> (text, reason).
        self.skipped: dict[int, tuple[str, str]] = {}
        self.next_record = 1  # pyarrow's count of records after the header
        self.next_line = 2  # the line the next record starts on, once the header is known
        self.tally = Tally()  # non-empty records after the header, landed or rejected

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
                f"a record is longer than {limits.BLOCK_BYTES >> 20} MiB:"
                " an unterminated quoted field or an over-long line",
                format=self.format,
                location=f"line {self.next_line} or after",
            )
        return LandingFileError(
            f"unreadable CSV: {error}",
            format=self.format,
            location=f"line {self.next_line} or after",
        )

    def batches(
        self, first: list[pa.Array], blocks: Iterator[list[pa.Array]], target: Target
    ) -> Iterator[pa.RecordBatch]:
        last: list[pa.Array] = first
        for columns in chain([first], blocks):
            lines = self.lines(_newlines(columns))
            present = _not_empty(columns)
            self.tally.read += int(present.sum())
            if not present.all():
                columns = [values.filter(pa.array(present)) for values in columns]
                lines = lines[present]
            yield target.batch(columns, lines)
            last = columns if len(columns[0]) else last
        self.lines(np.zeros(0, dtype=np.int64))
        if len(last[0]):
            self.check_last_value(raw_value(last[-1], len(last[-1]) - 1))

    def lines(self, newlines: np.ndarray) -> np.ndarray:
        """The lines on which the next rows start, given the line breaks inside each, around the
        rows pyarrow skipped (which are rejected here, once their line is known)."""
        for row in self.invalid:
            self.reject(row)
        self.invalid.clear()
        count, start = len(newlines), self.next_record
        candidates = np.arange(start, start + count + len(self.skipped), dtype=np.int64)
        records = candidates[~np.isin(candidates, list(self.skipped))][:count]
        end = int(records[-1]) + 1 if count else max(self.skipped, default=start - 1) + 1
        span = np.arange(start, end, dtype=np.int64)  # every record up to the last of the rows
        breaks = np.zeros(len(span), dtype=np.int64)
        breaks[records - start] = newlines
        here = {int(r): self.skipped.pop(int(r)) for r in span if int(r) in self.skipped}
        for record, (text, _) in here.items():
            breaks[record - start] = text.count("\n")
        starts = self.next_line + np.concatenate([[0], np.cumsum(breaks + 1)[:-1]])
        for record, (text, reason) in here.items():
            line = int(starts[record - start])
            self.rejects.append(rejected_row(self.source_name, line, text, reason))
        if len(span):
            self.next_line = int(starts[-1] + breaks[-1] + 1)
            self.next_record = end
        return starts[records - start]

    def reject(self, row: pa_csv.InvalidRow) -> None:
        number = row.number - 1  # pyarrow counts the header as row 1
        if number == 0:
            raise LandingFileError(
                "the header could not be parsed", format=self.format, location="line 1"
            )
        # An opening quote that is never closed swallows the rest of the file into one row.
        if row.text.count('"') % 2 and self.runs_to_end(row.text):
            raise self.unterminated_quote(row.text)
        reason = f"expected {row.expected_columns} fields, found {row.actual_columns}"
        self.skipped[number] = (row.text, reason)
        self.tally.read += 1

    def check_last_value(self, value: object) -> None:
        """pyarrow accepts a quote left open at the end of the file: the value it opened then
        runs over lines up to the end of the file, where a closing quote would otherwise be."""
        if isinstance(value, str) and self.runs_to_end(value):
            raise self.unterminated_quote(value)

    def runs_to_end(self, text: str) -> bool:
        """Whether `text` spans lines and ends the file."""
        ending = text.rstrip("\r\n")[-limits.SNIFF_CHARS :].encode(self.encoding, errors="replace")
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
        file.seek(max(path.stat().st_size - limits.SNIFF_BYTES, 0))
        return file.read()


def _line_where_tail_starts(path: Path, tail: str) -> int:
    """The line on which `tail`, text that runs to the end of the file, starts."""
    newlines, last = 0, b""
    with path.open("rb") as file:
        for chunk in iter(partial(file.read, limits.BLOCK_BYTES), b""):
            newlines += chunk.count(b"\n")
            last = chunk
    trailing = last[len(last.rstrip(b"\r\n")) :].count(b"\n")
    return newlines - trailing + 1 - tail.rstrip("\r\n").count("\n")
