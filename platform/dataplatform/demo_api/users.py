"""Users: seed-derived people with slowly changing attributes, some registered twice.

A third of the people live in households (see `households`): the members share the head's
surname (most of them), address and home phone, and some households have twins, born the same
day but named differently. They are different people: only second accounts are duplicates.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import cast

import numpy as np

from dataplatform.demo_api.config import DemoApiConfig
from dataplatform.demo_api.hashing import hash64, pick, standard_normal, unit
from dataplatform.demo_api.households import MAX_HOUSEHOLD, household_heads, household_ranks
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
from dataplatform.demo_api.vocab import (
    CALLING_CODES,
    CITIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    NICKNAMES,
    STREET_NAMES,
    STREET_TYPES,
)

_FIRST_NAMES = np.array(FIRST_NAMES, dtype=object)
_LAST_NAMES = np.array(LAST_NAMES, dtype=object)
_CITY_NAMES = np.array([city for city, _ in CITIES], dtype=object)
_COUNTRY_CODES = np.array([country for _, country in CITIES], dtype=object)
_NAME_SWAPS = dict(NICKNAMES) | {short: full for full, short in NICKNAMES}
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_BACKDATED_SIGNUP_SECONDS = 3 * 365 * SECONDS_PER_DAY
# Of the households, those whose first two members are twins: about 2% of the people, as
# 1.5-3% of births are twins.
TWIN_SHARE = 0.1
_SHARED_SURNAME = 0.85  # household members (other than the head and twins) with its surname
_SHARED_HOME = 0.85  # second accounts that give the person's home, not another address
_PHONE_GIVEN = 0.9  # accounts that give a phone number (the null check allows 20%)
_STREET_ABBREVIATED = 0.35  # accounts that write "Oak St" rather than "Oak Street"
_HOUSE_NUMBERS = 250


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
    heads = household_heads(config.seed, roots)
    twins = is_younger_twin(config, roots)
    first_names, last_names = _names(config, ids, roots, heads, twins)
    homes = _home_keys(config, ids, roots, heads)
    cities = _city_codes(config, homes, day_index)
    return {
        "user_id": Column(ids, render_plain),
        "first_name": Column(first_names, render_plain),
        "last_name": Column(last_names, render_plain),
        "email": Column(_emails(config, ids, first_names, last_names, day_index), render_plain),
        "date_of_birth": Column(_birth_days(config, ids, roots, heads, twins), render_dates),
        "street": Column(_streets(config, ids, homes, day_index), render_plain),
        "city": Column(_CITY_NAMES[cities], render_plain),
        "country": Column(_COUNTRY_CODES[cities], render_plain),
        "phone": Column(_phones(config, ids, homes, cities, day_index), render_plain),
        "signup_at": Column(signup_seconds(config, ids), render_timestamps),
    }


def household_ids(config: DemoApiConfig, user_ids: np.ndarray) -> np.ndarray:
    """The household of the person behind each user id: its head's user id (the person's own
    root id when they live alone)."""
    roots = root_user_ids(config, np.asarray(user_ids, dtype=np.int64))
    return household_heads(config.seed, roots)


def is_younger_twin(config: DemoApiConfig, roots: np.ndarray) -> np.ndarray:
    """Whether each person (a root id) is the twin of their household's head."""
    heads = household_heads(config.seed, roots)
    in_twin_household = unit(config.seed, "household.twins", heads) < TWIN_SHARE
    return (household_ranks(config.seed, roots) == 1) & in_twin_household


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
    config: DemoApiConfig, ids: np.ndarray, roots: np.ndarray, heads: np.ndarray, twins: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    seed = config.seed
    first = pick(seed, "user.first_name", len(FIRST_NAMES), roots)
    members = np.flatnonzero(heads != roots)
    first[members] = _member_first_names(
        seed, heads[members], household_ranks(seed, roots[members])
    )
    first_names = _FIRST_NAMES[first]
    shares_surname = (heads == roots) | twins
    shares_surname |= unit(seed, "household.surname", roots) < _SHARED_SURNAME
    surname_of = np.where(shares_surname, heads, roots)
    last_names = _LAST_NAMES[pick(seed, "user.last_name", len(LAST_NAMES), surname_of)]
    duplicates = np.flatnonzero(roots != ids)
    draws = hash64(config.seed, "user.duplicate.names", ids[duplicates]).tolist()
    for row, draw in zip(duplicates.tolist(), draws, strict=True):
        first_names[row] = _varied_first_name(cast(str, first_names[row]), draw & 0xFFFFFFFF)
        last_names[row] = _varied_last_name(cast(str, last_names[row]), draw >> 32)
    return first_names, last_names


def _member_first_names(seed: int, heads: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """First names (indices into FIRST_NAMES) of household members after the head, by head
    and rank: no two members of a household share a name or a nickname of it, and a twin's
    initial differs from the head twin's."""
    twinned = (unit(seed, "household.twins", heads) < TWIN_SHARE).tolist()
    head_names = pick(seed, "user.first_name", len(FIRST_NAMES), heads).tolist()
    later_ranks = np.arange(1, MAX_HOUSEHOLD)
    draws = hash64(seed, "household.first_name", heads[:, None], later_ranks[None, :]).tolist()
    by_household: dict[int, list[int]] = {}
    names = np.empty(len(heads), dtype=np.int64)
    rows = zip(heads.tolist(), ranks.tolist(), head_names, twinned, draws, strict=True)
    for row, (head, rank, head_name, twins, rank_draws) in enumerate(rows):
        household = by_household.setdefault(head, [head_name])
        while len(household) <= rank:
            twin = twins and len(household) == 1
            household.append(_unlike_name(household, twin, rank_draws[len(household) - 1]))
        names[row] = household[rank]
    return names


def _unlike_name(taken: list[int], twin: bool, draw: int) -> int:
    """A first name that is none of `taken` nor a nickname of one; a twin's has another
    initial than the head twin's (`taken[0]`)."""
    choices = _TWIN_NAME_CHOICES[taken[0]] if twin else range(len(FIRST_NAMES))
    for offset in range(len(choices)):
        name = choices[(draw + offset) % len(choices)]
        if all(_NAME_KEYS[name].isdisjoint(_NAME_KEYS[other]) for other in taken):
            return name
    raise ValueError("no first name left for a household member")


def _unlike_names() -> tuple[tuple[int, ...], ...]:
    """By first name, the indices of the first names a twin of that name may have: other
    initials, counting those of its nicknames and formal names ("Bill" is a "William")."""

    def initials(name: int) -> set[str]:
        return {key[0] for key in _NAME_KEYS[name]}

    def unlike(name: int, other: int) -> bool:
        return initials(name).isdisjoint(initials(other))

    names = range(len(FIRST_NAMES))
    return tuple(tuple(other for other in names if unlike(name, other)) for name in names)


def _name_keys() -> tuple[frozenset[str], ...]:
    """By first name, the name and its nicknames or formal names, folded."""
    return tuple(
        frozenset({_slug(name)} | {_slug(full) for full, short in NICKNAMES if short == name})
        | frozenset(_slug(short) for full, short in NICKNAMES if full == name)
        for name in FIRST_NAMES
    )


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


def _birth_days(
    config: DemoApiConfig, ids: np.ndarray, roots: np.ndarray, heads: np.ndarray, twins: np.ndarray
) -> np.ndarray:
    """Epoch days of birth (a twin's is the head twin's); some second accounts get one date
    part wrong."""
    spread = standard_normal(config.seed, "user.age", np.where(twins, heads, roots))
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


def _home_keys(
    config: DemoApiConfig, ids: np.ndarray, roots: np.ndarray, heads: np.ndarray
) -> np.ndarray:
    """The key of the home each account gives: its person's household head, or, for a second
    account that gives another address, its own negated id (no household's key)."""
    shares_home = (ids == roots) | (unit(config.seed, "user.duplicate.city", ids) < _SHARED_HOME)
    return np.where(shares_home, heads, -ids)


def _home_epochs(config: DemoApiConfig, homes: np.ndarray, day_index: int) -> np.ndarray:
    """How many times each home's household has moved: the whole household moves at once."""
    return _step_epochs(config.seed, "user.home.epoch", homes, day_index, 400, 1500)


def _city_codes(config: DemoApiConfig, homes: np.ndarray, day_index: int) -> np.ndarray:
    epochs = _home_epochs(config, homes, day_index)
    return pick(config.seed, "user.city", len(CITIES), homes, epochs)


def _streets(
    config: DemoApiConfig, ids: np.ndarray, homes: np.ndarray, day_index: int
) -> np.ndarray:
    """'12 Oak Street', or '12 Oak St' as some accounts abbreviate the street type."""
    seed, epochs = config.seed, _home_epochs(config, homes, day_index)
    numbers = 1 + pick(seed, "user.street.number", _HOUSE_NUMBERS, homes, epochs)
    names = pick(seed, "user.street.name", len(STREET_NAMES), homes, epochs)
    kinds = pick(seed, "user.street.type", len(STREET_TYPES), homes, epochs)
    abbreviated = (unit(seed, "user.street.abbreviated", ids) < _STREET_ABBREVIATED).astype(int)
    streets = [
        f"{number} {STREET_NAMES[name]} {STREET_TYPES[kind][short]}"
        for number, name, kind, short in zip(
            numbers.tolist(), names.tolist(), kinds.tolist(), abbreviated.tolist(), strict=True
        )
    ]
    return np.array(streets, dtype=object)


def _phones(
    config: DemoApiConfig, ids: np.ndarray, homes: np.ndarray, cities: np.ndarray, day_index: int
) -> np.ndarray:
    """The home's phone in the international format each account writes it in, or None."""
    seed, epochs = config.seed, _home_epochs(config, homes, day_index)
    digits = hash64(seed, "user.phone", homes, epochs)
    numbers = (100 + digits % np.uint64(900), digits >> np.uint64(12), digits >> np.uint64(32))
    area, exchange, line = numbers[0].tolist(), numbers[1].tolist(), numbers[2].tolist()
    formats = pick(seed, "user.phone.format", 4, ids).tolist()
    given = (unit(seed, "user.phone.given", ids) < _PHONE_GIVEN).tolist()
    codes = [CALLING_CODES[country] for country in _COUNTRY_CODES[cities].tolist()]
    phones = [
        _phone(code, a, 100 + b % 900, 1000 + c % 9000, style) if has_phone else None
        for code, a, b, c, style, has_phone in zip(
            codes, area, exchange, line, formats, given, strict=True
        )
    ]
    return np.array(phones, dtype=object)


def _phone(code: str, area: int, exchange: int, line: int, style: int) -> str:
    """'+44 201 555 0123', '+442015550123', '0044 201 555 0123' or '+44 (201) 555-0123'."""
    return (
        f"+{code} {area} {exchange} {line}",
        f"+{code}{area}{exchange}{line}",
        f"00{code} {area} {exchange} {line}",
        f"+{code} ({area}) {exchange}-{line}",
    )[style]


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


_NAME_KEYS = _name_keys()
_TWIN_NAME_CHOICES = _unlike_names()
