"""Configuration of the demo source API: data volumes, dirt rates, auth and fault injection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

FaultKind = Literal["error", "rate_limit", "slow", "truncate"]
FAULT_KINDS: tuple[FaultKind, ...] = ("error", "rate_limit", "slow", "truncate")


@dataclass(frozen=True)
class FaultConfig:
    """Injected failures; the rates are disjoint per-request probabilities."""

    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after_seconds: float = 1.0
    slow_rate: float = 0.0
    slow_seconds: float = 0.5
    truncate_rate: float = 0.0
    fail_first_attempts: int = 0
    fail_first_kind: FaultKind = "error"

    def __post_init__(self) -> None:
        if self.fail_first_kind not in FAULT_KINDS:
            raise ValueError(f"fail_first_kind must be one of {FAULT_KINDS}")
        if self.error_rate + self.rate_limit_rate + self.slow_rate + self.truncate_rate > 1.0:
            raise ValueError("fault rates must sum to at most 1")


@dataclass(frozen=True)
class DemoApiConfig:
    """Everything that determines the demo API's data and behaviour."""

    seed: int = 42
    start_date: date = date(2026, 1, 1)
    initial_users: int = 2000
    new_users_per_day: int = 50
    initial_tracks: int = 1000
    new_tracks_per_day: int = 10
    listens_per_day: int = 5000
    reviews_per_day: int = 300
    duplicate_person_rate: float = 0.08
    dirty_rate: float = 0.02
    orphan_rate: float = 0.002
    token: str | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)
    # Records a day under the endpoints' own volume knobs (`endpoints.Volume`), by knob; one
    # left out takes its registry default. Not hashed, so the config stays a cache key.
    volumes: Mapping[str, int] = field(default_factory=dict, hash=False)

    @classmethod
    def scaled(cls, listens_per_day: int, **overrides: Any) -> DemoApiConfig:
        """Scale users, tracks and reviews in proportion to the default 5,000 listens a day; the
        endpoints' own volume knobs follow `listens_per_day` by themselves."""
        base = cls()
        factor = listens_per_day / base.listens_per_day
        volumes = {
            "initial_users": base.initial_users,
            "new_users_per_day": base.new_users_per_day,
            "initial_tracks": base.initial_tracks,
            "new_tracks_per_day": base.new_tracks_per_day,
            "reviews_per_day": base.reviews_per_day,
        }
        scaled_volumes = {name: max(1, round(value * factor)) for name, value in volumes.items()}
        return replace(base, listens_per_day=listens_per_day, **{**scaled_volumes, **overrides})
