"""Fault injection: decides per request whether to fail, throttle, stall or truncate it."""

from __future__ import annotations

import random
import threading
from collections import Counter

from dataplatform.demo_api.config import FaultConfig, FaultKind


class FaultInjector:
    """Draws random faults at the configured rates and fails each URL's first attempts."""

    def __init__(self, faults: FaultConfig, seed: int) -> None:
        self._faults = faults
        self._random = random.Random(seed)  # noqa: S311  seeded, repeatable test faults, not secrets
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def fault_for(self, url: str) -> FaultKind | None:
        """The fault to inject into this request, if any; `url` is its path and query."""
        with self._lock:
            if self._attempts[url] < self._faults.fail_first_attempts:
                self._attempts[url] += 1
                return self._faults.fail_first_kind
            draw = self._random.random()
        return self._random_fault(draw)

    def _random_fault(self, draw: float) -> FaultKind | None:
        faults = self._faults
        rates: tuple[tuple[FaultKind, float], ...] = (
            ("error", faults.error_rate),
            ("rate_limit", faults.rate_limit_rate),
            ("slow", faults.slow_rate),
            ("truncate", faults.truncate_rate),
        )
        threshold = 0.0
        for kind, rate in rates:
            threshold += rate
            if draw < threshold:
                return kind
        return None
