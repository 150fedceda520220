"""The entity specs of the platform: the demo API's users, and FEBRL for measuring quality."""

from typing import cast

import numpy as np
import pandas as pd
from recordlinkage.preprocessing import phonetic

from dataplatform.entities.people import fold_name, normalise_phone, sound
from dataplatform.entities.spec import Comparison, EntitySpec

NAME_SIMILARITY = 0.85
ADDRESS_SIMILARITY = 0.85
# A swapped day and month (similarity 0.5) still counts as agreement.
DATE_AGREEMENT = 0.5


def soundex(names: pd.Series) -> pd.Series:
    """Soundex codes, computed once per distinct name (names repeat a lot)."""
    codes, distinct = pd.factorize(names)
    coded = phonetic(pd.Series(distinct), method="soundex").to_numpy()
    sounds = np.where(codes >= 0, coded[codes], None)  # pyright: ignore[reportArgumentType]  # numpy stubs omit None, an object scalar to np.where
    return pd.Series(sounds, index=names.index)


def _febrl_keys(records: pd.DataFrame) -> pd.DataFrame:
    """Derive phonetic and partial blocking keys (dates of birth are parsed by then)."""
    records["surname_sound"] = soundex(cast(pd.Series, records["surname"]))
    records["given_name_sound"] = soundex(cast(pd.Series, records["given_name"]))
    records["birth_year"] = records["date_of_birth"].dt.year
    return records


# The given-name pass also blocks on the state: on a million generated people a given-name
# sound and a birth year alone made most of the candidate pairs (and of the memory), and a
# duplicate keeps its state far more often than its surname and postcode together.
FEBRL = EntitySpec(
    name="febrl",
    id_column="rec_id",
    blocking=(
        ("given_name_sound", "birth_year", "state"),
        ("surname_sound", "postcode"),
        ("soc_sec_id",),
        ("date_of_birth",),
        ("postcode", "street_number"),
    ),
    comparisons=(
        Comparison("given_name", "jarowinkler", "given_name", threshold=NAME_SIMILARITY),
        Comparison("surname", "jarowinkler", "surname", threshold=NAME_SIMILARITY),
        Comparison("street_number", "exact", "street_number"),
        Comparison("address_1", "levenshtein", "address_1", threshold=ADDRESS_SIMILARITY),
        Comparison("suburb", "levenshtein", "suburb", threshold=ADDRESS_SIMILARITY),
        Comparison("postcode", "exact", "postcode"),
        Comparison("state", "exact", "state"),
        Comparison("date_of_birth", "date", "date_of_birth", threshold=DATE_AGREEMENT),
        Comparison("soc_sec_id", "levenshtein", "soc_sec_id", threshold=ADDRESS_SIMILARITY),
    ),
    dates=(("date_of_birth", "%Y%m%d"),),
    prepare=_febrl_keys,
)


NICKNAMES = {
    "bob": "robert",
    "rob": "robert",
    "bobby": "robert",
    "bill": "william",
    "will": "william",
    "liz": "elizabeth",
    "beth": "elizabeth",
    "betty": "elizabeth",
    "kate": "katherine",
    "kathy": "katherine",
    "mike": "michael",
    "tom": "thomas",
    "jim": "james",
    "jimmy": "james",
    "chris": "christopher",
    "jen": "jennifer",
    "jenny": "jennifer",
    "dan": "daniel",
    "danny": "daniel",
    "matt": "matthew",
    "tony": "anthony",
    "steve": "steven",
    "andy": "andrew",
    "josh": "joshua",
    "ken": "kenneth",
    "ed": "edward",
    "ron": "ronald",
    "tim": "timothy",
    "jeff": "jeffrey",
    "nick": "nicholas",
    "jon": "jonathan",
    "sam": "samuel",
    "alex": "alexander",
    "pat": "patricia",
    "patty": "patricia",
    "sasha": "alexandra",
    "sue": "susan",
    "jess": "jessica",
    "joe": "joseph",
    "dick": "richard",
    "rick": "richard",
    "greg": "gregory",
    "pete": "peter",
    "maggie": "margaret",
    "meg": "margaret",
    "debbie": "deborah",
    "becky": "rebecca",
    "cathy": "catherine",
    "vicky": "victoria",
    "larry": "lawrence",
    "ben": "benjamin",
    "charlie": "charles",
    "frank": "francis",
    "ray": "raymond",
    "dave": "david",
    "mandy": "amanda",
    "steph": "stephanie",
    "kim": "kimberly",
}


# Street types as people abbreviate them, to their full word.
STREET_TYPES = {
    "st": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "dr": "drive",
    "pl": "place",
    "ct": "court",
    "tce": "terrace",
}


def _street_words(streets: pd.Series) -> pd.Series:
    """Folded streets with the street type spelt out: "12 Oak St" -> "12 oak street"."""
    abbreviation = r"\b(" + "|".join(STREET_TYPES) + r")\b"
    return fold_name(streets).str.replace(
        abbreviation, lambda found: STREET_TYPES[found.group(1)], regex=True
    )


def _user_keys(records: pd.DataFrame) -> pd.DataFrame:
    """Fold names to lower-case ASCII, nicknames to formal names; normalise the home's
    street, city and phone; derive blocking keys."""
    first_names = fold_name(cast(pd.Series, records["first_name"]))
    given_names = first_names.map(NICKNAMES, na_action="ignore").fillna(first_names)
    records["given_name"] = given_names.astype("string")
    records["given_name_sound"] = sound(given_names)
    records["given_initial"] = given_names.str.slice(0, 1)
    records["family_name"] = fold_name(cast(pd.Series, records["last_name"]))
    records["family_name_sound"] = sound(cast(pd.Series, records["family_name"]))
    records["birth_year"] = records["date_of_birth"].dt.year
    records["home_street"] = _street_words(cast(pd.Series, records["street"]))
    records["home_city"] = fold_name(cast(pd.Series, records["city"]))
    records["home_phone"] = normalise_phone(cast(pd.Series, records["phone"]))
    return records


# Unsupervised Fellegi-Sunter with u-probabilities from random pairs (see
# `fellegi_sunter`), not ECM: names, cities and birth years repeat a lot among the users, so
# every blocking pass yields many non-matches that agree on its fields, and ECM, which
# fits both classes on the candidate pairs, was measured to take such a pass's pairs for the
# match class (F1 0.26 on 20,000 users). A missing value is no evidence either way.
#
# A third of the users live in households: different people with one surname, street, city
# and phone, some of them twins born the same day. The home's fields are one comparison
# (the share of those present on both sides that agree), so that a shared home counts once.
# Fellegi-Sunter takes the comparisons as independent among non-matches, which households
# break: housemates agree on surname and home, twins also on the birth date, far more often
# than random pairs predict, and expectation-maximisation takes such pairs for matches when
# blocking proposes many of them. Measured on 10,000 demo users (test_users_quality): a
# pass on the phone alone (every housemate pair a candidate) gives F1 0.32, a pass on
# surname sound and birth date (every twin pair) F1 0.90, these passes F1 0.97 with no twins
# and 5 of 4,225 housemate pairs merged. So every pass without a name sound also keys on the
# given name's initial: a typo keeps the first letter and a nickname is folded to the
# formal name first, but twins named differently are never compared.
NAME_LEVELS = (NAME_SIMILARITY, 1.0)
# The home: all of street, city and phone present on both sides agree, at least half do, or
# fewer.
HOME_LEVELS = (0.5, 1.0)

USERS = EntitySpec(
    name="users",
    id_column="user_id",
    blocking=(
        ("given_name", "family_name_sound"),
        ("given_name_sound", "family_name_sound"),
        ("given_name_sound", "date_of_birth"),
        ("given_initial", "family_name_sound", "birth_year"),
        ("given_initial", "date_of_birth", "home_city"),
        ("given_initial", "home_phone"),
    ),
    comparisons=(
        Comparison(
            "given_name",
            "jarowinkler",
            "first_name",
            None,
            levels=NAME_LEVELS,
            swap_with="family_name",
        ),
        Comparison(
            "family_name",
            "jarowinkler",
            "last_name",
            None,
            levels=NAME_LEVELS,
            swap_with="given_name",
        ),
        Comparison("date_of_birth", "date_parts", "date_of_birth", None),
        Comparison(
            ("home_street", "home_city", "home_phone"), "exact", "home", None, levels=HOME_LEVELS
        ),
    ),
    classifier="fellegi_sunter",
    recency_column="updated_at",
    dates=(("date_of_birth", None),),
    prepare=_user_keys,
)
