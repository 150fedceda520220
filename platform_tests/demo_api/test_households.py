"""The demo users' households: different people who share a surname, an address and a phone."""

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from dataplatform.demo_api import DemoApiConfig
from dataplatform.demo_api.users import household_ids, root_user_ids, user_columns
from dataplatform.demo_api.vocab import NICKNAMES

CONFIG = DemoApiConfig()
STREET_TYPES = {"St": "Street", "Rd": "Road", "Ave": "Avenue", "Ln": "Lane", "Dr": "Drive"}
STREET_TYPES |= {"Pl": "Place", "Ct": "Court", "Tce": "Terrace"}


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    """The first 6,000 people (first accounts only) as of day 0, with their household."""
    ids = np.arange(1, 6001)
    ids = ids[root_user_ids(CONFIG, ids) == ids]
    columns = user_columns(CONFIG, ids, 0)
    frame = pd.DataFrame({name: column.values for name, column in columns.items()})
    return frame.assign(household=household_ids(CONFIG, ids))


def _households(people: pd.DataFrame) -> list[pd.DataFrame]:
    return [members for _, members in people.groupby("household") if len(members) > 1]


def _phone_digits(phone: str | None) -> str | None:
    return None if phone is None else "".join(c for c in phone if c.isdigit()).removeprefix("00")


def _full_street(street: str) -> str:
    number, *name, kind = street.split(" ")
    return " ".join([number, *name, STREET_TYPES.get(kind, kind)])


def test_about_a_third_of_the_people_live_in_households_of_two_to_five(
    people: pd.DataFrame,
) -> None:
    sizes = [len(members) for members in _households(people)]
    assert 0.25 <= sum(sizes) / len(people) <= 0.42
    assert min(sizes) == 2 and max(sizes) == 5


def test_members_share_the_address_and_phone_and_mostly_the_surname(
    people: pd.DataFrame,
) -> None:
    pairs = [
        (a, b)
        for members in _households(people)
        for a, b in combinations(members.to_dict("records"), 2)
    ]
    for a, b in pairs:
        assert (a["city"], a["country"]) == (b["city"], b["country"])
        assert _full_street(a["street"]) == _full_street(b["street"])
        if a["phone"] and b["phone"]:
            assert _phone_digits(a["phone"]) == _phone_digits(b["phone"])
    same_surname = sum(a["last_name"] == b["last_name"] for a, b in pairs)
    assert 0.75 * len(pairs) <= same_surname < len(pairs)
    written_differently = [a["phone"] != b["phone"] for a, b in pairs if a["phone"] and b["phone"]]
    assert any(written_differently)


def test_some_members_are_twins_born_the_same_day_with_unlike_first_names(
    people: pd.DataFrame,
) -> None:
    twins = [
        (a, b)
        for members in _households(people)
        for a, b in combinations(members.to_dict("records"), 2)
        if a["date_of_birth"] == b["date_of_birth"]
    ]
    assert 0.01 * len(people) / 2 <= len(twins) <= 0.03 * len(people) / 2
    for a, b in twins:
        assert a["last_name"] == b["last_name"]
        assert a["first_name"][0] != b["first_name"][0]


def test_no_two_members_of_a_household_share_a_first_name_or_its_nickname(
    people: pd.DataFrame,
) -> None:
    formal = {short: full for full, short in NICKNAMES}
    for members in _households(people):
        names = [formal.get(name, name) for name in members["first_name"]]
        assert len(set(names)) == len(names)


def test_people_who_live_alone_have_an_address_of_their_own(people: pd.DataFrame) -> None:
    alone = people[people.groupby("household")["user_id"].transform("size") == 1]
    addresses = [
        f"{_full_street(street)}, {city}"
        for street, city in zip(alone["street"], alone["city"], strict=True)
    ]
    assert pd.Series(addresses).duplicated().mean() < 0.01
