"""The default users spec finds the demo API's duplicate people with F1 >= 0.95, and keeps
apart the different people of one household (surname, street, city and phone shared), twins
included."""

from dataclasses import replace
from datetime import timedelta
from functools import cache

import pandas as pd
import pytest

from dataplatform.cleaning.tables import USERS as USERS_TABLE
from dataplatform.cleaning.validation import clean_table
from dataplatform.demo_api import DemoApiConfig
from dataplatform.demo_api.endpoints import day_table
from dataplatform.demo_api.ground_truth import true_entity_ids
from dataplatform.demo_api.users import household_ids
from dataplatform.entities.platform_specs import USERS
from dataplatform.entities.quality import (
    entity_pairs,
    pair_quality,
    true_pairs_from_entities,
    unordered_pairs,
)
from dataplatform.entities.resolution import Resolution, resolve
from platform_tests.demo_data import SMALL

# SMALL as the entity assets use it, and ten thousand users of whom 8% of the newer ones
# are second accounts, over five days.
CONFIGS = {
    "small": (replace(SMALL, new_users_per_day=600), 2),
    "ten_thousand": (DemoApiConfig.scaled(50_000, initial_users=2000, new_users_per_day=2000), 5),
}


def cleaned_users(config: DemoApiConfig, days: int) -> pd.DataFrame:
    """The latest cleaned version of every user seen on the first `days` days."""
    frames = []
    for offset in range(days):
        table = day_table(config, "users", config.start_date + timedelta(days=offset))
        raw = pd.DataFrame(table.rows(0, table.total))
        frames.append(clean_table(raw, USERS_TABLE).table.to_pandas())
    users = pd.concat(frames, ignore_index=True)
    return users.drop_duplicates("user_id", keep="last").reset_index(drop=True)


@cache
def resolved(name: str) -> tuple[DemoApiConfig, pd.DataFrame, Resolution]:
    config, days = CONFIGS[name]
    users = cleaned_users(config, days)
    return config, users, resolve(USERS, users)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_users_resolve_to_the_true_people_with_f1_at_least_0_95(name: str) -> None:
    config, users, resolution = resolved(name)
    ids = users["user_id"].to_numpy()
    true_pairs = true_pairs_from_entities(ids, true_entity_ids(config, ids))
    quality = pair_quality(entity_pairs(resolution.entities, USERS.id_column), true_pairs)
    print(f"{name}: {len(users)} users, {len(true_pairs)} true pairs, {quality}")
    assert len(true_pairs) >= 30  # enough true duplicates for F1 to mean something
    assert quality["f1"] >= 0.95


@pytest.mark.parametrize("name", list(CONFIGS))
def test_household_members_and_twins_are_not_merged(name: str) -> None:
    config, users, resolution = resolved(name)
    ids = users["user_id"].to_numpy()
    same_person = unordered_pairs(true_pairs_from_entities(ids, true_entity_ids(config, ids)))
    same_home = unordered_pairs(true_pairs_from_entities(ids, household_ids(config, ids)))
    housemates = same_home - same_person
    born = dict(zip(ids, users["date_of_birth"], strict=True))
    twins = {(a, b) for a, b in housemates if born[a] == born[b]}
    merged = unordered_pairs(entity_pairs(resolution.entities, USERS.id_column))
    print(f"{name}: {len(housemates)} housemate pairs, {len(twins)} twin pairs,")
    print(f"  merged {len(merged & housemates)} housemate and {len(merged & twins)} twin pairs")
    assert len(housemates) > len(same_person)  # more housemates than duplicates to tell apart
    assert twins
    assert len(merged & housemates) <= 0.005 * len(housemates)
    assert not merged & twins


# The demo's first day holds no second accounts yet: its closest pairs are housemates. Fitted
# on them, the model said matches disagree on first name and birth date, and merged 22
# housemate pairs on make run's first day; such a fit is now refused comparison by comparison.
def test_a_first_day_without_duplicates_resolves_every_user_to_themselves() -> None:
    config = DemoApiConfig()
    users = cleaned_users(config, 1)
    ids = users["user_id"].to_numpy()
    assert len(set(true_entity_ids(config, ids))) == len(ids)

    resolution = resolve(USERS, users)

    assert resolution.entities["entity_id"].nunique() == len(users)
