"""Users: seed-derived people with slowly changing attributes, some registered twice."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import cast

import numpy as np

from dataplatform.demo_api.config import DemoApiConfig
from dataplatform.demo_api.hashing import hash64, pick, standard_normal, unit
from dataplatform.demo_api.table import (
    Column,
    render_dates,
    render_plain,
    render_timestamps,
)
from dataplatform.demo_api.timeline import (
    SECONDS_PER_DAY,
    Population,
    day_start_seconds,
    epoch_day,
    seconds_into_day,
)
from dataplatform.demo_api.vocab import CITIES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, NICKNAMES

_FIRST_NAMES = np.array(FIRST_NAMES, dtype=object)
_LAST_NAMES = np.array(LAST_NAMES, dtype=object)
_CITY_NAMES = np.array([city for city, _ in CITIES], dtype=object)
_COUNTRY_CODES = np.array([country for _, country in CITIES], dtype=object)
_NAME_SWAPS = dict(NICKNAMES) | {short: full for full, short in NICKNAMES}
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_BACKDATED_SIGNUP_SECONDS = 3 * 365 * SECONDS_PER_DAY


def user_population(config: DemoApiConfig) -> Population:
    return Population(config.initial_users, config.new_users_per_day)


def is_duplicate_registration(config: DemoApiConfig, user_ids: np.ndarray) -> np.ndarray:
    """Whether each user id is a second account of a person who registered earlier."""
    eligible = user_ids > max(config.initial_users, 1)
    return eligible & (unit(config.seed, "user.duplicate", user_ids) < config.duplicate_person_rate)


def root_user_ids(config: DemoApiConfig, user_ids: np.ndarray) -> np.ndarray:
    """The first account of the real person behind each user id (a root maps to itself)."""
    roots = np.array(user_ids, dtype=np.int64)
    pending = is_duplicate_registration(config, roots)
    while pending.any():
        earlier = roots[pending]
        roots[pending] = 1 + pick(config.seed, "user.duplicate.of", earlier - 1, earlier)
        pending[pending] = is_duplicate_registration(config, roots[pending])
    return roots


def user_columns(config: DemoApiConfig, user_ids: np.ndarray, day_index: int) -> dict[str, Column]:
    """Every user field except updated_at, as of the given day."""
    ids = np.asarray(user_ids, dtype=np.int64)
    roots = root_user_ids(config, ids)
    first_names, last_names = _names(config, ids, roots)
    cities = _city_codes(config, ids, roots, day_index)
    return {
        "user_id": Column(ids, render_plain),
        "first_name": Column(first_names, render_plain),
        "last_name": Column(last_names, render_plain),
        "email": Column(_emails(config, ids, first_names, last_names, day_index), render_plain),
        "date_of_birth": Column(_birth_days(config, ids, roots), render_dates),
        "city": Column(_CITY_NAMES[cities], render_plain),
        "country": Column(_COUNTRY_CODES[cities], render_plain),
        "signup_at": Column(signup_seconds(config, ids), render_timestamps),
    }


def signup_seconds(config: DemoApiConfig, user_ids: np.ndarray) -> np.ndarray:
    """Epoch seconds of sign-up; the initial users signed up during the years before day 0."""
    days = user_population(config).creation_days(user_ids)
    signed_up = day_start_seconds(config.start_date, days) + seconds_into_day(
        config.seed, "user.signup", user_ids
    )
    backdate = pick(config.seed, "user.signup.backdate", _BACKDATED_SIGNUP_SECONDS, user_ids)
    before_start = day_start_seconds(config.start_date, 0) - 1 - backdate
    return np.where(days == 0, before_start, signed_up)


def _names(
    config: DemoApiConfig, ids: np.ndarray, roots: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    first_names = _FIRST_NAMES[pick(config.seed, "user.first_name", len(FIRST_NAMES), roots)]
    last_names = _LAST_NAMES[pick(config.seed, "user.last_name", len(LAST_NAMES), roots)]
    duplicates = np.flatnonzero(roots != ids)
    draws = hash64(config.seed, "user.duplicate.names", ids[duplicates]).tolist()
    for row, draw in zip(duplicates.tolist(), draws, strict=True):
        first_names[row] = _varied_first_name(cast(str, first_names[row]), draw & 0xFFFFFFFF)
        last_names[row] = _varied_last_name(cast(str, last_names[row]), draw >> 32)
    return first_names, last_names


def _varied_first_name(name: str, draw: int) -> str:
    """A nickname or the formal name, a typo, or unchanged."""
    roll = draw % 100
    if roll < 30 and name in _NAME_SWAPS:
        return _NAME_SWAPS[name]
    if roll < 55:
        return _typo(name, draw // 100)
    return name


def _varied_last_name(name: str, draw: int) -> str:
    """A typo, occasionally a different name (marriage), or unchanged."""
    roll = draw % 100
    if roll < 25:
        return _typo(name, draw // 100)
    if roll < 28:
        return LAST_NAMES[(draw // 100) % len(LAST_NAMES)]
    return name


def _typo(word: str, draw: int) -> str:
    """Swap, drop, replace or double one letter, keeping the first letter intact."""
    if len(word) < 3:
        return word + word[-1]
    position = 1 + (draw >> 2) % (len(word) - 2)
    kind = draw % 4
    if kind == 0:
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    if kind == 1:
        return word[:position] + word[position + 1 :]
    if kind == 2:
        return word[:position] + _LETTERS[(draw >> 12) % 26] + word[position + 1 :]
    return word[:position] + word[position] + word[position:]


def _birth_days(config: DemoApiConfig, ids: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """Epoch days of birth; some second accounts get one date part wrong."""
    spread = standard_normal(config.seed, "user.age", roots)
    age_years = 16 + np.minimum(np.exp(2.7 + 0.5 * spread), 70)
    born = epoch_day(config.start_date) - np.round(365.25 * age_years).astype(np.int64)
    misremembered = (roots != ids) & (unit(config.seed, "user.duplicate.dob", ids) < 0.3)
    draws = hash64(config.seed, "user.duplicate.dob.change", ids)
    return np.where(misremembered, _shift_one_date_part(born, draws), born)


def _shift_one_date_part(days: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Move the day, month or year by one, or swap day and month, keeping the date valid."""
    dates = days.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    day_of_month = (dates - months).astype(np.int64)
    year, month = np.divmod(months.astype(np.int64), 12)
    kind = (draws % np.uint64(4)).astype(np.int64)
    step = np.where((draws >> np.uint64(2)) % np.uint64(2) == 0, -1, 1)
    month = np.where(kind == 1, (month + step) % 12, month)
    year = np.where(kind == 2, year + step, year)
    swap = (kind == 3) & (day_of_month < 12)
    month, day_of_month = np.where(swap, day_of_month, month), np.where(swap, month, day_of_month)
    first_of_month = (year * 12 + month).astype("datetime64[M]")
    first_day = first_of_month.astype("datetime64[D]")
    month_length = ((first_of_month + 1).astype("datetime64[D]") - first_day).astype(np.int64)
    nudged = day_of_month + step
    nudged = np.where((nudged >= 0) & (nudged < month_length), nudged, day_of_month - step)
    day_of_month = np.minimum(np.where(kind == 0, nudged, day_of_month), month_length - 1)
    return (first_day + day_of_month).astype(np.int64)


def _city_codes(
    config: DemoApiConfig, ids: np.ndarray, roots: np.ndarray, day_index: int
) -> np.ndarray:
    """Home city (a second account usually shares the person's), changed by rare moves."""
    seed = config.seed
    own_home = pick(seed, "user.city", len(CITIES), ids)
    shares_home = unit(seed, "user.duplicate.city", ids) < 0.85
    home = np.where(shares_home, pick(seed, "user.city", len(CITIES), roots), own_home)
    epochs = _step_epochs(seed, "user.city.epoch", ids, day_index, 400, 1500)
    signup_epochs = _step_epochs(
        seed, "user.city.epoch", ids, user_population(config).creation_days(ids), 400, 1500
    )
    moved_to = pick(seed, "user.city.moved", len(CITIES), ids, epochs)
    return np.where(epochs == signup_epochs, home, moved_to)


def _step_epochs(
    seed: int,
    salt: str,
    ids: np.ndarray,
    day_index: int | np.ndarray,
    min_period: int,
    max_period: int,
) -> np.ndarray:
    """Per-id step counters: each id's attribute changes every `period` days, phase-shifted."""
    periods = min_period + pick(seed, salt + ".period", max_period - min_period, ids)
    phases = pick(seed, salt + ".phase", periods, ids)
    return (day_index + phases) // periods


def _emails(
    config: DemoApiConfig,
    ids: np.ndarray,
    first_names: np.ndarray,
    last_names: np.ndarray,
    day_index: int,
) -> np.ndarray:
    epochs = _step_epochs(config.seed, "user.email.epoch", ids, day_index, 60, 400)
    variants = hash64(config.seed, "user.email", ids, epochs).tolist()
    emails = [
        _email(first, last, variant)
        for first, last, variant in zip(first_names, last_names, variants, strict=True)
    ]
    return np.array(emails, dtype=object)


def _email(first_name: str, last_name: str, variant: int) -> str:
    given, family = _slug(first_name), _slug(last_name)
    pattern = variant % 6
    local = (
        f"{given}.{family}",
        f"{given}{family}",
        f"{given[0]}{family}",
        f"{given}_{family}",
        f"{family}.{given}",
        given,
    )[pattern]
    if pattern == 5 or (variant >> 4) % 5:
        local += str(1 + (variant >> 8) % 9999)
    return f"{local}@{EMAIL_DOMAINS[(variant >> 24) % len(EMAIL_DOMAINS)]}"


@lru_cache(maxsize=4096)
def _slug(name: str) -> str:
    """Lower-case ASCII letters only: 'O'Brien' -> 'obrien', 'Müller' -> 'muller'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(char for char in ascii_name.lower() if char.isalnum())
