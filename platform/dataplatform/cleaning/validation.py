"""Turns a raw text extract into a typed table and a rejects table, losing no row.

Order: normalise text, drop exact duplicates, parse each column to its kind (a value that
does not parse is a reject), check the declared rules with pandera (a violation is a
reject), then resolve keys (latest version for dimensions, duplicate keys rejected for
facts). Every rejected row keeps its original raw values and says why it was rejected.

Booleans are `true` or `false` in any case (the JSON literals); anything else (`yes`, `1`) is
a reject rather than a guess. A list column's raw text is a JSON array; each element parses
by the element kind's rules (so `"12"` is the int 12, as in a scalar column), and a row
with an element that does not parse, or is null, is a reject.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import cast

import numpy as np
import orjson
import pandas as pd
import pandera.errors
import pandera.pandas as pdr
import pyarrow as pa

from dataplatform.cleaning.spec import Kind, TableSpec
from dataplatform.resources.api_pages import raw_texts

REJECT_REASON = "_reject_reason"
BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True)
class Cleaned:
    table: pa.Table
    rejects: pd.DataFrame
    exact_duplicates: int
    superseded_versions: int
    missing_columns: list[str]
    unexpected_columns: list[str]


class RejectReasons:
    """Why each rejected row (by raw index) was rejected; a row may collect several reasons."""

    def __init__(self) -> None:
        self._by_row: dict[object, list[str]] = defaultdict(list)

    def add(self, rows: pd.Index, reasons: pd.Series | str) -> None:
        texts = reasons if isinstance(reasons, pd.Series) else pd.Series(reasons, index=rows)
        for row, reason in texts.loc[rows].items():
            self._by_row[row].append(reason)

    @property
    def rows(self) -> pd.Index:
        return pd.Index(list(self._by_row))

    def as_series(self) -> pd.Series:
        return pd.Series(
            {row: "; ".join(reasons) for row, reasons in self._by_row.items()}, dtype="string"
        )


def clean_table(raw: pd.DataFrame, spec: TableSpec) -> Cleaned:
    columns = list(spec.fields)
    text = normalise_text(raw.reindex(columns=columns), spec)
    duplicate = text.duplicated()
    text = cast(pd.DataFrame, text[~duplicate])
    reasons = RejectReasons()
    typed = parse_columns(text, spec, reasons)
    check_rules(typed.drop(index=reasons.rows, errors="ignore"), spec, reasons)  # pyright: ignore[reportArgumentType, reportCallIssue]  # pandas types drop(index=) as IndexLabel, omitting Index
    valid = typed.drop(index=reasons.rows)  # pyright: ignore[reportArgumentType, reportCallIssue]  # pandas types drop(index=) as IndexLabel, omitting Index
    valid, superseded = resolve_keys(valid, spec, reasons)
    rejects = raw.loc[reasons.rows].assign(**{REJECT_REASON: reasons.as_series()})
    return Cleaned(
        table=to_arrow_table(valid, spec),
        rejects=rejects.reset_index(drop=True),
        exact_duplicates=int(duplicate.sum()),
        superseded_versions=superseded,
        missing_columns=[c for c in columns if c not in raw.columns],
        unexpected_columns=[
            c for c in raw.columns if c not in spec.fields and not c.startswith("_")
        ],
    )


def normalise_text(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Strip and collapse whitespace, turn empty strings into nulls, apply per-field rules."""
    result = {}
    for name, field in spec.fields.items():
        values = frame[name].astype("string").str.strip().str.replace(r"\s+", " ", regex=True)
        values = values.mask(values == "")
        result[name] = field.normalise(values) if field.normalise else values
    return pd.DataFrame(result, index=frame.index)


def parse_columns(text: pd.DataFrame, spec: TableSpec, reasons: RejectReasons) -> pd.DataFrame:
    typed = {}
    for name, field in spec.fields.items():
        values = cast(pd.Series, text[name])
        parsed = (
            parse_lists(values, field.kind) if field.is_list else parse_values(values, field.kind)
        )
        unparsable = values.notna() & parsed.isna()
        if unparsable.any():
            bad = text.index[unparsable]
            reasons.add(
                bad,
                name + ": " + text.loc[bad, name].map(repr) + f" is not a valid {field.type_name}",
            )
        typed[name] = parsed
    return pd.DataFrame(typed, index=text.index)


def parse_values(values: pd.Series, kind: Kind) -> pd.Series:
    match kind:
        case Kind.INT:
            numbers = cast(pd.Series, pd.to_numeric(values.astype(object), errors="coerce"))
            return numbers.where(numbers % 1 == 0).astype("Int64")
        case Kind.FLOAT:
            numbers = cast(pd.Series, pd.to_numeric(values.astype(object), errors="coerce"))
            return numbers.astype("Float64")
        case Kind.TIMESTAMP:
            return pd.to_datetime(
                values.astype(object), utc=True, errors="coerce", format="ISO8601"
            )
        case Kind.DATE:
            return pd.to_datetime(values.astype(object), errors="coerce", format="%Y-%m-%d")
        case Kind.BOOL:
            return values.str.lower().map(BOOLEANS).astype("boolean")
        case Kind.TEXT:
            return values


def parse_lists(values: pd.Series, kind: Kind) -> pd.Series:
    """JSON arrays of `kind` values as Python lists; null where the text is not such an array."""
    present = values.dropna()
    arrays = [_json_array(text) for text in present.tolist()]
    lengths = np.array([0 if array is None else len(array) for array in arrays], dtype=np.int64)
    elements = [element for array in arrays if array for element in array]
    parsed = parse_values(pd.Series(raw_texts(elements), dtype="string"), kind)
    rows_with_a_bad_element = np.repeat(np.arange(len(arrays)), lengths)[parsed.isna().to_numpy()]
    good = np.array([array is not None for array in arrays], dtype=bool)
    good[rows_with_a_bad_element] = False
    flat, ends = parsed.tolist(), np.cumsum(lengths).tolist()
    lists = [
        flat[end - length : end] if ok else None
        for ok, end, length in zip(good.tolist(), ends, lengths.tolist(), strict=True)
    ]
    result = pd.Series(None, index=values.index, dtype=object)
    result[present.index] = pd.Series(lists, index=present.index, dtype=object)
    return result


def _json_array(text: str) -> list | None:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def check_rules(typed: pd.DataFrame, spec: TableSpec, reasons: RejectReasons) -> None:
    validate(spec.pandera_schema(), typed, reasons)
    for column in spec.list_columns:
        if spec.fields[column].checks:
            # one row per element, same index
            elements = cast(pd.Series, typed[column]).explode().dropna()
            frame = elements.astype(spec.fields[column].kind.pandas_dtype).to_frame()
            validate(spec.element_schema(column), frame, reasons, "element ")


def validate(
    schema: pdr.DataFrameSchema, frame: pd.DataFrame, reasons: RejectReasons, what: str = ""
) -> None:
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases.dropna(subset=["index"])
        for (row, column), failures in cases.groupby(["index", "column"], sort=False):
            reasons.add(pd.Index([row]), describe_failure(column, failures, what))


def describe_failure(column: str, failures: pd.DataFrame, what: str = "") -> str:
    checks = list(dict.fromkeys(str(check) for check in failures["check"]))
    if checks == ["not_nullable"]:
        return f"{column}: missing (required)"
    return f"{column}: {what}{failures['failure_case'].iloc[0]!r} fails {', '.join(checks)}"


def resolve_keys(
    valid: pd.DataFrame, spec: TableSpec, reasons: RejectReasons
) -> tuple[pd.DataFrame, int]:
    key = list(spec.key)
    if spec.is_dimension:
        latest = valid.sort_values(spec.version_column, kind="stable").drop_duplicates(
            key, keep="last"
        )
        return latest.sort_index(), len(valid) - len(latest)
    repeated = valid.duplicated(key, keep="first")
    if repeated.any():
        rows = valid.index[repeated]
        reasons.add(rows, f"duplicate key {', '.join(key)}: an earlier row has the same key")
    return cast(pd.DataFrame, valid[~repeated]), 0


def to_arrow_table(valid: pd.DataFrame, spec: TableSpec) -> pa.Table:
    """The table in its declared Parquet types and nullability (dates as date32)."""
    table = pa.Table.from_pandas(valid.reset_index(drop=True), preserve_index=False)
    return table.cast(spec.arrow_schema(), safe=False)
