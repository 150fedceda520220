"""The entity specs of the platform: the demo API's users, and FEBRL for measuring quality."""

from typing import cast

import numpy as np
import pandas as pd
from recordlinkage.preprocessing import phonetic

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


def _ascii_lower(names: pd.Series) -> pd.Series:
    folded = names.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    return folded.str.lower().str.strip()


def _user_keys(records: pd.DataFrame) -> pd.DataFrame:
    """Fold names to lower-case ASCII, nicknames to formal names; derive blocking keys."""
    first_names = _ascii_lower(cast(pd.Series, records["first_name"]))
    given_names = first_names.map(NICKNAMES).fillna(first_names)
    records["given_name"] = given_names
    records["given_name_sound"] = soundex(given_names)
    family_names = _ascii_lower(cast(pd.Series, records["last_name"]))
    records["family_name"] = family_names
    records["family_name_sound"] = soundex(family_names)
    records["birth_year"] = records["date_of_birth"].dt.year
    records["home"] = _ascii_lower(cast(pd.Series, records["city"]))
    return records


# Unsupervised Fellegi-Sunter with u-probabilities from random pairs (see
# `fellegi_sunter`), not ECM: names, cities and birth years repeat a lot among the users, so
# every blocking pass yields many non-matches that agree on its fields, and ECM, which
# fits both classes on the candidate pairs, was measured to take such a pass's pairs for the
# match class (F1 0.26 on 20,000 users). Fixed u-probabilities make each blocking pass
# harmless to the model, so passes can be added for recall. A birth date counts in three
# levels (equal, one part off or day and month swapped, different) and a missing value is a
# level of its own (-1), whose weight the model learns instead of taking it as disagreement.
MISSING_LEVEL = -1.0
# Names count in three levels: equal, close (a typo) and different.
NAME_LEVELS = (NAME_SIMILARITY, 1.0)

USERS = EntitySpec(
    name="users",
    id_column="user_id",
    blocking=(
        ("family_name_sound", "birth_year"),
        ("given_name", "family_name_sound"),
        ("given_name_sound", "family_name_sound"),
        ("date_of_birth", "home"),
        ("given_name_sound", "date_of_birth"),
        ("family_name_sound", "home"),
    ),
    comparisons=(
        Comparison("given_name", "jarowinkler", "first_name", MISSING_LEVEL, levels=NAME_LEVELS),
        Comparison("family_name", "jarowinkler", "last_name", MISSING_LEVEL, levels=NAME_LEVELS),
        Comparison("date_of_birth", "date_parts", "date_of_birth", MISSING_LEVEL),
        Comparison("home", "exact", "city", MISSING_LEVEL),
    ),
    classifier="fellegi_sunter",
    recency_column="updated_at",
    dates=(("date_of_birth", None),),
    prepare=_user_keys,
)
