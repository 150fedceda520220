"""The default users spec finds the demo API's duplicate people with F1 >= 0.95."""

from dataclasses import replace
from datetime import timedelta

import pandas as pd
import pytest

from dataplatform.cleaning.tables import USERS as USERS_TABLE
from dataplatform.cleaning.validation import clean_table
from dataplatform.demo_api import DemoApiConfig
from dataplatform.demo_api.endpoints import day_table
from dataplatform.demo_api.ground_truth import true_entity_ids
from dataplatform.entities.platform_specs import USERS
from dataplatform.entities.quality import entity_pairs, pair_quality, true_pairs_from_entities
from dataplatform.entities.resolution import resolve
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


@pytest.mark.parametrize("name", list(CONFIGS))
def test_users_resolve_to_the_true_people_with_f1_at_least_0_95(name: str) -> None:
    config, days = CONFIGS[name]
    users = cleaned_users(config, days)
    true_pairs = true_pairs_from_entities(
        users["user_id"], true_entity_ids(config, users["user_id"])
    )
    resolution = resolve(USERS, users)
    quality = pair_quality(entity_pairs(resolution.entities, USERS.id_column), true_pairs)
    print(f"{name}: {len(users)} users, {len(true_pairs)} true pairs, {quality}")
    assert len(true_pairs) >= 30  # enough true duplicates for F1 to mean something
    assert quality["f1"] >= 0.95
