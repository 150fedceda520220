"""Day arithmetic and the growth of id populations (users, tracks) over the simulated days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from dataplatform.demo_api.hashing import pick, unit, weighted_pick

SECONDS_PER_DAY = 86_400
_EPOCH = date(1970, 1, 1)
# Relative listening activity per UTC hour: quiet nights, a commute bump, an evening peak.
_HOURLY_ACTIVITY = np.array(
    [
        2.0,
        1.2,
        0.8,
        0.5,
        0.5,
        0.8,
        2.0,
        4.0,
        5.0,
        4.5,
        4.0,
        4.0,
        4.5,
        4.5,
        4.0,
        4.0,
        4.5,
        5.5,
        6.5,
        7.0,
        7.0,
        6.5,
        5.0,
        3.5,
    ]
)


def epoch_day(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - _EPOCH).days


def day_start_seconds(start_date: date, day_index: int | np.ndarray) -> int | np.ndarray:
    """Epoch seconds at 00:00:00 UTC of the given day index(es)."""
    return (epoch_day(start_date) + day_index) * SECONDS_PER_DAY


def day_keys(day_index: int, numbers: np.ndarray) -> np.ndarray:
    """One hash key per (day, row number), so per-row draws need a single mixing pass."""
    return (day_index << 32) + numbers


def seconds_into_day(seed: int, salt: str, *keys: np.ndarray | int) -> np.ndarray:
    """Hashed times of day in seconds, following the daily listening rhythm."""
    hours = weighted_pick(unit(seed, salt + ".hour", *keys), _HOURLY_ACTIVITY)
    return hours * 3600 + pick(seed, salt + ".second", 3600, *keys)


@dataclass(frozen=True)
class Population:
    """Dense ids 1..N: `initial` created on day 0, then `per_day` more each following day."""

    initial: int
    per_day: int

    def existing(self, day_index: int) -> int:
        """How many ids exist at the end of the given day."""
        return 0 if day_index < 0 else self.initial + day_index * self.per_day

    def created_on(self, day_index: int) -> np.ndarray:
        return np.arange(self.existing(day_index - 1) + 1, self.existing(day_index) + 1)

    def creation_days(self, ids: np.ndarray) -> np.ndarray:
        later = (ids - self.initial - 1) // max(self.per_day, 1) + 1
        return np.where(ids <= self.initial, 0, later)
