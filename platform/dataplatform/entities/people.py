"""Normalising person data before resolving it: names, phonetic keys, phones and emails.

Each helper takes a pandas Series and works on the whole column at once; missing values
(and values that normalise to nothing) come back missing. `person_prepare` combines them
into the `prepare` step of an `EntitySpec` for a table of people.
"""

from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import pandas as pd
from recordlinkage.preprocessing import phonetic

# Name similarity levels for Jaro-Winkler: equal, close (a typo), different.
NAME_LEVELS = (0.85, 1.0)
# Levels of a multi-column comparison's mean similarity: all columns agree, at least half
# do, fewer than half.
HALF_AGREE_LEVELS = (0.5, 1.0)
FRENCH_COUNTRY_CODE = "33"
PHONETIC_METHODS = ("soundex", "nysiis", "metaphone", "match_rating")
# Letters that NFKD does not decompose into ASCII ones.
LIGATURES = str.maketrans(
    {"æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ø": "o", "Ø": "O"}
)


def fold_name(names: pd.Series) -> pd.Series:
    """Lower-case ASCII names: accents dropped (NFKD), ligatures spelt out, any run of
    characters other than letters and digits (hyphens, apostrophes, dots, spaces) made one
    space, ends stripped: "Jean-Pierre", " jean  pierre" and "JEAN PIERRE" all become
    "jean pierre"."""
    text = names.astype("string").str.translate(LIGATURES)
    folded = text.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    folded = folded.str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
    return _empty_as_missing(folded)


def sound(names: pd.Series, method: str = "soundex") -> pd.Series:
    """Phonetic code of each name (recordlinkage's `phonetic`), computed once per distinct
    name, since names repeat a lot. Names are best folded first (see `fold_name`)."""
    if method not in PHONETIC_METHODS:
        raise ValueError(f"unknown phonetic method {method!r}; expected {PHONETIC_METHODS}")
    codes, distinct = pd.factorize(names)
    coded = phonetic(pd.Series(distinct, dtype=object), method=method).to_numpy(dtype=object)
    sounds = np.full(len(names), None, dtype=object)
    known = codes >= 0
    sounds[known] = coded[codes[known]]
    return _empty_as_missing(pd.Series(sounds, index=names.index, dtype="string"))


def normalise_phone(phones: pd.Series, country_code: str = FRENCH_COUNTRY_CODE) -> pd.Series:
    """Phone numbers as their national digits: "+33 6 12 34 56 78", "0033612345678",
    "+33 (0)6 12 34 56 78" and "06.12.34.56.78" all become "0612345678" (for country code
    "33"). Numbers of other countries keep their international prefix, as "00<code>..."."""
    text = phones.astype("string").str.strip().str.replace(r"^\+", "00", regex=True)
    digits = text.str.replace(r"\D", "", regex=True)
    international = f"00{country_code}"
    national = digits.str.slice(len(international))
    national = national.where(national.str.startswith("0"), "0" + national)
    digits = digits.where(~digits.str.startswith(international), national)
    return _empty_as_missing(digits)


def normalise_email(emails: pd.Series) -> pd.Series:
    """Emails in lower case without surrounding spaces."""
    return _empty_as_missing(emails.astype("string").str.strip().str.lower())


def person_prepare(
    name_columns: Sequence[str] = ("given_name", "surname"),
    date_of_birth: str | None = "date_of_birth",
    phone_columns: Sequence[str] = (),
    email_columns: Sequence[str] = (),
    country_code: str = FRENCH_COUNTRY_CODE,
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """A `prepare` step for an `EntitySpec` of people: folds each name column (`fold_name`)
    and derives its `<name>_sound` key (`sound`), derives `birth_year` from the date of birth
    (parsed by then: list it in the spec's `dates`), and normalises phone and email columns.
    """

    def prepare(records: pd.DataFrame) -> pd.DataFrame:
        for column in name_columns:
            records[column] = fold_name(cast(pd.Series, records[column]))
            records[f"{column}_sound"] = sound(cast(pd.Series, records[column]))
        if date_of_birth is not None:
            records["birth_year"] = pd.to_datetime(records[date_of_birth]).dt.year
        for column in phone_columns:
            records[column] = normalise_phone(cast(pd.Series, records[column]), country_code)
        for column in email_columns:
            records[column] = normalise_email(cast(pd.Series, records[column]))
        return records

    return prepare


def _empty_as_missing(values: pd.Series) -> pd.Series:
    """Text as pandas' string dtype, empty text as missing (pd.NA)."""
    return values.astype("string").replace("", pd.NA)
