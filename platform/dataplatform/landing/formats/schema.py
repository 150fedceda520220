"""Decides a file's columns: snake_case names, and types inferred from a text sample or given by
a contract."""

import re
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from dataplatform.landing.formats import limits
from dataplatform.landing.formats.casting import CAST_ERRORS, Target
from dataplatform.landing.formats.errors import LandingFileError

INFERRED_TYPES = [
    pa.int64(),
    pa.float64(),
    pa.bool_(),
    pa.date32(),
    pa.timestamp("us", tz="UTC"),
    pa.timestamp("us"),
]
# A column whose sampled values are numbers but for this share is a number column whose other
# values reject their rows; with more, it stays text (and the metadata warns if most are numbers).
MAX_UNFIT_SHARE = 0.1
INTEGER = r"^[+-]?\d+$"
FLOAT = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
TYPE_FAMILIES = {
    "number": lambda t: pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t),
    "text": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "bytes": lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t),
    "time": lambda t: pa.types.is_timestamp(t) or pa.types.is_date(t),
}


def sampled_target(
    names: list[str],
    sample: list[pa.Array],
    contract: pa.Schema | None,
    format: str,
    source_name: str,
    rejects: list[dict],
) -> Target:
    """Types inferred from a text sample, overridden by the contract where it has the column."""
    warnings: list[str] = []
    types = [
        _infer_type(name, values, warnings) for name, values in zip(names, sample, strict=True)
    ]
    if contract is not None:
        types = contract_types(
            pa.schema(list(zip(names, types, strict=True))), contract, format, typed=False
        )
        warnings = [warning for warning in warnings if warning.split(":")[0] not in contract.names]
    return Target(names, types, source_name, rejects, warnings)


def _infer_type(name: str, values: pa.Array, warnings: list[str]) -> pa.DataType:
    """The first of INFERRED_TYPES that every value of a text sample fits; else a number type if
    at most MAX_UNFIT_SHARE of the values are not numbers (their rows are then rejected), else
    string, with a warning if most values were numbers."""
    present = values.drop_null()
    if len(present) == 0:
        return pa.string()
    for candidate in INFERRED_TYPES:
        try:
            # A failing cast is slow on a long array; most candidates fail on the first values.
            present[: limits.PROBE_ROWS].cast(candidate)
            present.cast(candidate)
        except CAST_ERRORS:
            continue
        return pa.string() if _is_code(candidate, present) else candidate
    return _mostly_numbers(name, present, warnings)


def _is_code(type_: pa.DataType, present: pa.Array) -> bool:
    """Codes such as "007" or "01234" look numeric but lose their leading zeros as numbers."""
    numeric = pa.types.is_integer(type_) or pa.types.is_floating(type_)
    return numeric and pc.any(pc.match_substring_regex(present, r"^[+-]?0\d")).as_py()  # pyright: ignore[reportAttributeAccessIssue]  # pyarrow.compute defines its kernels at import


def _mostly_numbers(name: str, present: pa.Array, warnings: list[str]) -> pa.DataType:
    text = pc.utf8_trim_whitespace(present)  # pyright: ignore[reportAttributeAccessIssue]  # pyarrow.compute defines its kernels at import
    floats = pc.match_substring_regex(text, FLOAT).to_numpy(zero_copy_only=False)  # pyright: ignore[reportAttributeAccessIssue]
    integers = pc.match_substring_regex(text, INTEGER).to_numpy(zero_copy_only=False)  # pyright: ignore[reportAttributeAccessIssue]
    numbers, total = int(floats.sum()), len(present)
    type_ = pa.int64() if (integers == floats).all() else pa.float64()
    if total - numbers <= MAX_UNFIT_SHARE * total and not _is_code(type_, present):
        warnings.append(
            f"{name}: {type_}, though {total - numbers} of {total} sampled values are not"
            " numbers: their rows are rejected"
        )
        return type_
    if numbers * 2 > total:
        warnings.append(
            f"{name}: kept as text, though {numbers} of {total} sampled values are numbers"
        )
    return pa.string()


def contract_types(
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


def column_names(raw: Iterable[str | None]) -> list[str]:
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
