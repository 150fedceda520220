"""Column-oriented day tables that render JSON-ready rows lazily, one slice at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

Renderer = Callable[[np.ndarray], list[Any]]
_TIMES_OF_DAY = np.array(
    [
        f"T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"
        for second in range(86_400)
    ],
    dtype=object,
)


def render_plain(values: np.ndarray) -> list[Any]:
    """Integers and strings are JSON-ready as they are."""
    return values.tolist()


def render_timestamps(values: np.ndarray) -> list[Any]:
    """Epoch seconds to ISO-8601 UTC strings such as 2026-03-04T13:45:12Z."""
    # A date lookup plus a time-of-day table is ~4x faster than numpy's datetime formatting.
    days, seconds = np.divmod(values, len(_TIMES_OF_DAY))
    distinct_days, day_positions = np.unique(days, return_inverse=True)
    dates = np.datetime_as_string(distinct_days.astype("datetime64[D]")).astype(object)
    return (dates[day_positions] + _TIMES_OF_DAY[seconds]).tolist()


def render_dates(values: np.ndarray) -> list[Any]:
    """Epoch days to YYYY-MM-DD strings."""
    return np.datetime_as_string(values.astype("datetime64[D]")).tolist()


def render_from(choices: tuple[str, ...]) -> Renderer:
    """Render integer codes as the strings they index."""
    lookup = np.array(choices, dtype=object)
    return lambda codes: lookup[codes].tolist()


def render_prefixed(prefix: str) -> Renderer:
    """Render integers as prefixed string ids such as L12-345."""
    return lambda values: [prefix + number for number in map(str, values.tolist())]


@dataclass(frozen=True)
class Column:
    values: np.ndarray
    render: Renderer


@dataclass(frozen=True)
class Table:
    """Clean base rows plus dirt: an output order that repeats some rows, and value overrides."""

    columns: dict[str, Column]
    order: np.ndarray
    overrides: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def clean(cls, columns: dict[str, Column]) -> Table:
        """A table without dirt: every base row once, in base order."""
        size = len(next(iter(columns.values())).values)
        return cls(columns=columns, order=np.arange(size))

    @property
    def total(self) -> int:
        return len(self.order)

    @property
    def base_size(self) -> int:
        return len(next(iter(self.columns.values())).values)

    def base_values(self, rows: np.ndarray) -> dict[str, list[Any]]:
        """Rendered clean values of the given base rows, column by column."""
        return {name: column.render(column.values[rows]) for name, column in self.columns.items()}

    def rows(self, start: int, stop: int) -> list[dict[str, Any]]:
        """Output rows [start, stop) as dicts, with dirt applied."""
        base_rows = self.order[start:stop]
        values = self.base_values(base_rows)
        if self.overrides:
            self._apply_overrides(base_rows, values)
        names = tuple(values)
        return [dict(zip(names, row, strict=True)) for row in zip(*values.values(), strict=True)]

    @cached_property
    def _is_overridden(self) -> np.ndarray:
        flags = np.zeros(self.base_size, dtype=bool)
        flags[np.fromiter(self.overrides, dtype=np.int64, count=len(self.overrides))] = True
        return flags

    def _apply_overrides(self, base_rows: np.ndarray, values: dict[str, list[Any]]) -> None:
        for position in np.flatnonzero(self._is_overridden[base_rows]).tolist():
            for name, value in self.overrides[int(base_rows[position])].items():
                values[name][position] = value
