"""The people generator: deterministic per seed, the asked share of duplicates, corrupted copies."""

import pandas as pd

from dataplatform.entities.synthetic import COLUMNS, people_with_duplicates


def test_the_same_seed_gives_the_same_records_and_another_seed_does_not() -> None:
    records, entities = people_with_duplicates(2_000, 0.2, seed=7)
    again, again_entities = people_with_duplicates(2_000, 0.2, seed=7)
    other, _ = people_with_duplicates(2_000, 0.2, seed=8)

    pd.testing.assert_frame_equal(records, again)
    pd.testing.assert_series_equal(entities, again_entities)
    assert not records.equals(other)


def test_records_have_febrl_columns_and_the_asked_share_of_duplicates() -> None:
    records, entities = people_with_duplicates(10_000, 0.25, seed=1)

    assert list(records.columns) == list(COLUMNS)
    assert len(records) == len(entities) == 10_000
    assert entities.index.equals(records.index) and records.index.is_unique
    assert 1 - entities.nunique() / len(entities) == 0.25


def test_copies_are_corrupted_with_typos_missing_values_swaps_and_nicknames() -> None:
    records, entities = people_with_duplicates(20_000, 0.5, seed=3)
    pairs = pair_with_original(records, entities)

    differs = {
        column: (pairs[f"{column}_copy"] != pairs[f"{column}_original"])
        & pairs[[f"{column}_copy", f"{column}_original"]].notna().all(axis=1)
        for column in ("given_name", "surname", "date_of_birth")
    }
    assert all(0.05 < share.mean() < 0.6 for share in differs.values())
    in_duplicated_entity = entities.duplicated(keep=False)
    missing = records["soc_sec_id"].isna()
    assert missing[in_duplicated_entity].mean() > missing[~in_duplicated_entity].mean() + 0.01
    swapped = (pairs["given_name_copy"] == pairs["surname_original"]) & (
        pairs["surname_copy"] == pairs["given_name_original"]
    )
    assert swapped.mean() > 0.01
    nicknamed = (pairs["given_name_original"] == "william") & (pairs["given_name_copy"] == "bill")
    nicknamed |= (pairs["given_name_original"] == "bill") & (pairs["given_name_copy"] == "william")
    assert nicknamed.any()


def test_originals_are_distinct_people() -> None:
    records, entities = people_with_duplicates(5_000, 0.0, seed=5)

    assert entities.is_unique
    assert records["soc_sec_id"].dropna().is_unique


def pair_with_original(records: pd.DataFrame, entities: pd.Series) -> pd.DataFrame:
    """Every record that is not its entity's first, side by side with that first record (either
    may be the original, as records are shuffled)."""
    first = ~entities.duplicated()
    originals = records[first].set_index(entities[first])
    copies = records[~first].set_index(entities[~first])
    return copies.join(originals, lsuffix="_copy", rsuffix="_original")
