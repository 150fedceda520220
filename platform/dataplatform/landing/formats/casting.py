"""Brings a batch of a file's values to its decided column types, rejecting the rows whose values
do not fit rather than the file."""

from dataclasses import dataclass, field

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from dataplatform.landing.formats.detection import decode

CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)
PROVENANCE = [
    pa.field("_source_file", pa.string()),
    pa.field("_row_number", pa.int64()),
    pa.field("_sheet", pa.string()),
]


@dataclass
class Target:
    """The decided columns of one file, and how a batch of its values is brought to them."""

    names: list[str]
    types: list[pa.DataType]
    source_name: str
    rejects: list[dict]
    warnings: list[str] = field(default_factory=list)  # type decisions an operator should know

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
                    f"{name}: {raw_value(values, row)!r} is not {type_}"
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
                name: raw_value(values, row)
                for name, values in zip(self.names, columns, strict=True)
            }
            self.rejects.append(
                rejected_row(
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


def raw_value(values: pa.Array, row: int) -> object:
    """A value for a reject, with bytes that are not UTF-8 read as cp1252."""
    scalar = values[row]
    if pa.types.is_string(values.type) and scalar.is_valid:
        return decode(scalar.as_buffer().to_pybytes(), "utf-8")
    return scalar.as_py()


def rejected_row(
    source_name: str, number: int, raw: str, reason: str, sheet: str | None = None
) -> dict:
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
        replaced = pc.replace_with_mask(values, pa.array(unfit), nulls)  # pyright: ignore[reportAttributeAccessIssue]  # pyarrow.compute defines its kernels at import
        return replaced.cast(type_), failed


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
