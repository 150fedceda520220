"""Deterministic dirt: nulls, wrongly typed values, messy strings and exact duplicate rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dataplatform.demo_api.hashing import hash64, pick, unit
from dataplatform.demo_api.table import Table
from dataplatform.demo_api.timeline import day_keys

BadValue = Callable[[Any, int], Any]
Corruption = Callable[[str, Any, int], Any]
_KEY_NULL_SHARE = 0.1  # key fields go missing ten times less often than other fields
_DUPLICATE_MAX_GAP = 50
_RATING_WORDS = ("one", "two", "three", "four", "five")


@dataclass(frozen=True)
class DirtSpec:
    """Which fields of an endpoint can be nulled, mistyped or messed up, and how to mistype."""

    keys: tuple[str, ...]
    nullable: tuple[str, ...]
    messy: tuple[str, ...]
    bad_types: dict[str, BadValue] = field(default_factory=dict)

    def mistype(self, name: str, value: Any, draw: int) -> Any:
        return self.bad_types[name](value, draw)


def add_dirt(
    table: Table, spec: DirtSpec, seed: int, salt: str, day_index: int, rate: float
) -> Table:
    """The same table with roughly `rate` of its rows hit by each kind of dirt."""
    rows = np.arange(table.base_size)
    overrides: dict[int, dict[str, Any]] = {}
    plans: tuple[tuple[str, float, tuple[str, ...], Corruption], ...] = (
        ("null", rate, spec.nullable, _null),
        ("key_null", rate * _KEY_NULL_SHARE, spec.keys, _null),
        ("messy", rate, spec.messy, messy_string),
        ("bad_type", rate, tuple(spec.bad_types), spec.mistype),
    )
    keys = day_keys(day_index, rows)
    for kind, share, fields, corruption in plans:
        hit = unit(seed, f"{salt}.{kind}", keys) < share
        draws = hash64(seed, f"{salt}.{kind}.how", keys[hit])
        _override(table, overrides, rows[hit], fields, corruption, draws)
    order = _order_with_duplicates(rows, keys, seed, f"{salt}.duplicate", rate)
    return Table(columns=table.columns, order=order, overrides=overrides)


def _override(
    table: Table,
    overrides: dict[int, dict[str, Any]],
    rows: np.ndarray,
    fields: tuple[str, ...],
    corruption: Corruption,
    draws: np.ndarray,
) -> None:
    if len(rows) == 0 or not fields:
        return
    clean = table.base_values(rows)
    choices = (draws % np.uint64(len(fields))).tolist()
    details = (draws >> np.uint64(8)).tolist()
    for position, (row, choice, draw) in enumerate(
        zip(rows.tolist(), choices, details, strict=True)
    ):
        name = fields[choice]
        overrides.setdefault(row, {})[name] = corruption(name, clean[name][position], draw)


def _order_with_duplicates(
    rows: np.ndarray, keys: np.ndarray, seed: int, salt: str, rate: float
) -> np.ndarray:
    """Base rows in order, with some rows emitted a second time a little later."""
    repeats = unit(seed, salt, keys) < rate
    repeated = rows[repeats]
    gaps = 1 + pick(seed, salt + ".gap", _DUPLICATE_MAX_GAP, keys[repeats])
    return np.insert(rows, np.minimum(repeated + gaps, len(rows)), repeated)


def _null(_name: str, _value: Any, _draw: int) -> None:
    return None


def messy_string(_name: str, value: str, draw: int) -> str:
    """Stray whitespace or odd case: ' Alice ', 'BOB@EXAMPLE.COM '."""
    variants = (f" {value}", f"{value} ", f"  {value}  ", value.upper(), value.lower())
    return (*variants, f"{value.upper()} ")[draw % (len(variants) + 1)]


def as_string(value: Any, _draw: int) -> str:
    """A number sent as a string: '1234'."""
    return str(value)


def not_available(value: int, draw: int) -> str:
    return ("n/a", "NaN", str(value))[draw % 3]


def minutes_and_seconds(value: int, _draw: int) -> str:
    """A duration in milliseconds written as m:ss."""
    return f"{value // 60_000}:{value // 1000 % 60:02d}"


def rating_word(value: int, draw: int) -> str:
    word = _RATING_WORDS[value - 1]
    return word.capitalize() if draw % 2 else word


def bad_timestamp(value: str, draw: int) -> str:
    """Unparseable or non-ISO renderings of 2026-03-04T13:45:12Z."""
    us_style = f"{value[5:7]}/{value[8:10]}/{value[:4]} {value[11:16]}"
    return ("not-a-date", us_style, value[:19].replace("T", " "), "")[draw % 4]


def bad_date(value: str, draw: int) -> str:
    """An impossible date (1990-02-31), a dotted European date or junk."""
    dotted = f"{value[8:10]}.{value[5:7]}.{value[:4]}"
    return (f"{value[:4]}-02-31", dotted, "not-a-date")[draw % 3]


def bool_word(value: bool, draw: int) -> str:
    """A boolean spelt as a word: 'yes', 'No', 'N'."""
    return (("no", "No", "N"), ("yes", "Yes", "Y"))[value][draw % 3]


def joined_list(values: list[Any], draw: int) -> str:
    """A list sent as one string rather than an array: '12,7,30', '12; 7; 30'."""
    return (",", "; ", " ")[draw % 3].join(map(str, values))
