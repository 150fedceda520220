"""People in households: the generator's truth, and resolution of its records by the spec a
user would write the obvious way (the worked example of docs/entities.md)."""

from dataclasses import replace
from typing import cast

import numpy as np
import pandas as pd
import pytest

from dataplatform.entities.households import (
    ADDRESS_COLUMNS,
    RECORD_COLUMNS,
    TRUTH_COLUMNS,
    people_in_households,
)
from dataplatform.entities.people import (
    NAME_LEVELS,
    fold_name,
    normalise_email,
    normalise_phone,
    person_prepare,
)
from dataplatform.entities.quality import entity_pairs, pair_quality, true_pairs_from_entities
from dataplatform.entities.resolution import Resolution, resolve
from dataplatform.entities.spec import Comparison, EntitySpec

RECORDS, TRUTH = people_in_households(seed=0)

# The spec a user would write the obvious way (docs/entities.md's worked example): every
# column compared, missing values no evidence, the household's correlated columns one
# comparison, blocking on sounds, birth date, email and phone.
PEOPLE = EntitySpec(
    name="people",
    id_column="record_id",
    blocking=(("given_name_sound", "surname_sound"), ("date_of_birth",), ("email",), ("phone",)),
    comparisons=(
        Comparison(
            "given_name", "jarowinkler", "given_name", None, levels=NAME_LEVELS, swap_with="surname"
        ),
        Comparison(
            "surname", "jarowinkler", "surname", None, levels=NAME_LEVELS, swap_with="given_name"
        ),
        Comparison("date_of_birth", "date_parts", "date_of_birth", None),
        Comparison("email", "exact", "email", None),
        Comparison(
            ("street", "city", "postcode", "phone"), "exact", "address", None, levels=(0.5, 1.0)
        ),
    ),
    classifier="fellegi_sunter",
    dates=(("date_of_birth", "%Y-%m-%d"),),
    prepare=person_prepare(phone_columns=("phone",), email_columns=("email",)),
)
# The same without the phone pass: households then reach the candidates only through twins
# (same birth date) and given names that sound alike.
PEOPLE_WITHOUT_PHONE_PASS = replace(PEOPLE, blocking=PEOPLE.blocking[:-1])
TARGET_F1 = 0.95
# Distinct pairs of people of one household put in one entity, of 1,259: 35 with the obvious
# spec (28 of the 31 pairs of twins among them), 29 without the phone pass (41 and 30 before
# clusters holding a pair scored apart were rebuilt by average linkage). Fitted on every
# candidate at once (before the model was fitted pass by pass), the obvious spec merged 1,188
# and reached F1 0.59.
MAX_MERGED_HOUSEHOLD_PAIRS = 50


def test_the_same_seed_gives_the_same_records_and_another_seed_does_not() -> None:
    records, truth = people_in_households(500, seed=3)
    again, again_truth = people_in_households(500, seed=3)
    other, _ = people_in_households(500, seed=4)

    pd.testing.assert_frame_equal(records, again)
    pd.testing.assert_frame_equal(truth, again_truth)
    assert not records.equals(other)


def test_every_person_has_one_original_record_and_some_have_one_to_three_more() -> None:
    assert list(RECORDS.columns) == list(RECORD_COLUMNS)
    assert list(TRUTH.columns) == list(TRUTH_COLUMNS)
    assert len(RECORDS) >= 4_000 and TRUTH.index.equals(RECORDS.index)
    assert RECORDS["record_id"].is_unique
    records_per_person = TRUTH.groupby("entity_id").size()
    originals_per_person = TRUTH.groupby("entity_id")["is_copy"].apply(lambda copy: (~copy).sum())
    assert (originals_per_person == 1).all()
    assert records_per_person.max() == 4
    assert 0.25 <= (records_per_person > 1).mean() <= 0.35
    assert (TRUTH.groupby("entity_id")["household_id"].nunique() == 1).all()


def test_a_third_of_the_people_share_a_household_and_its_home_and_surname() -> None:
    people = originals()
    size = people.groupby("household_id")["entity_id"].transform("size").to_numpy()
    shared = people[size > 1]

    assert abs(len(shared) / len(people) - 1 / 3) < 0.02
    assert set(size[size > 1]) == {2, 3, 4, 5}
    per_household = shared.groupby("household_id")[["surname", *ADDRESS_COLUMNS]].nunique()
    assert (per_household == 1).all().all()


def test_twins_share_their_household_and_birth_date_but_not_their_given_name() -> None:
    people = originals()
    by_birth = people.dropna(subset=["date_of_birth"]).groupby(["household_id", "date_of_birth"])
    twins = by_birth.filter(lambda group: len(group) > 1)

    assert twins.groupby(["household_id", "date_of_birth"]).ngroups >= 20
    named = people.dropna(subset=["given_name"])
    assert not named.duplicated(["household_id", "given_name"]).any()


def test_extra_records_carry_typos_swaps_missing_values_moves_and_other_emails() -> None:
    people = originals().set_index("entity_id")
    copies = normalised(cast(pd.DataFrame, RECORDS.loc[TRUTH["is_copy"]]))
    copies = copies.assign(entity_id=TRUTH["entity_id"])
    copies = copies.join(people, on="entity_id", rsuffix="_original")

    def differs(column: str) -> float:
        present = copies[[column, f"{column}_original"]].notna().all(axis=1)
        return float((copies[column] != copies[f"{column}_original"])[present].mean())

    assert 0.05 < differs("given_name") < 0.4
    assert 0.05 < differs("surname") < 0.4
    assert 0.03 < differs("date_of_birth") < 0.15
    assert 0.1 < differs("email") < 0.3
    assert 0.05 < differs("city") < 0.15
    swapped = copies["given_name"] == copies["surname_original"]
    assert 0.01 < swapped.mean() < 0.06
    assert 0.05 < copies["date_of_birth"].isna().mean() < 0.12


@pytest.fixture(scope="module")
def resolution() -> Resolution:
    return resolve(PEOPLE, RECORDS)


def test_the_obvious_spec_finds_the_duplicates(resolution: Resolution) -> None:
    assert entity_f1(resolution) >= TARGET_F1


def test_the_obvious_spec_keeps_household_members_apart(resolution: Resolution) -> None:
    assert len(merged_household_pairs(resolution)) <= MAX_MERGED_HOUSEHOLD_PAIRS


def test_without_the_phone_pass_the_duplicates_are_found_and_households_kept_apart() -> None:
    resolution = resolve(PEOPLE_WITHOUT_PHONE_PASS, RECORDS)

    assert entity_f1(resolution) >= TARGET_F1
    assert len(merged_household_pairs(resolution)) <= MAX_MERGED_HOUSEHOLD_PAIRS


# Unlabelled, twins are merged (they differ in given name only, which does not outweigh an
# agreeing surname, birth date and home): a review must tell them apart.
@pytest.mark.parametrize("spec", [PEOPLE, PEOPLE_WITHOUT_PHONE_PASS], ids=["obvious", "no_phone"])
def test_twins_labelled_as_different_people_stay_apart(spec: EntitySpec) -> None:
    labelled = households_labelled(share=0.2)
    reviewed = set(TRUTH.loc[labelled, "household_id"])
    household = TRUTH.drop_duplicates("entity_id").set_index("entity_id")["household_id"]
    reviewed_twins = {pair for pair in twin_pairs() if household[pair[0]] in reviewed}

    resolution = resolve(spec, RECORDS, labels_within(labelled))

    assert reviewed_twins
    assert not merged_household_pairs(resolution) & reviewed_twins


# With no duplicates at all, the closest pairs are housemates, and a fit over them says that
# matches mostly disagree on given name and birth date. Such a comparison's m is refused for the
# prior's: measured 50 housemate pairs merged, all 31 pairs of twins among them (1,163 matched
# pairs before the refusal, 46 after).
MAX_MERGED_WITHOUT_DUPLICATES = 60


def test_a_table_without_duplicates_keeps_its_households_apart_and_says_why() -> None:
    records = cast(pd.DataFrame, RECORDS.loc[~TRUTH["is_copy"]])

    resolution = resolve(PEOPLE, records)

    assert len(merged_household_pairs(resolution)) <= MAX_MERGED_WITHOUT_DUPLICATES
    refused = resolution.fit.levels.loc[~resolution.fit.levels["fitted"], "comparison"]
    assert {"given_name", "date_of_birth"} <= set(refused)
    assert any("m-probabilities are the prior's" in warning for warning in resolution.fit.warnings)


# Measured on the other four fifths: 0.9754 -> 0.9751 (obvious), 0.9767 -> 0.9764 without the
# phone pass (the labels' shift of the m table merges a few more true pairs and a few more
# false ones there): the bound allows a handful of pairs either way, not a lost model.
LABELS_F1_TOLERANCE = 0.001


@pytest.mark.parametrize("spec", [PEOPLE, PEOPLE_WITHOUT_PHONE_PASS], ids=lambda spec: spec.name)
def test_labels_for_a_fifth_of_the_households_do_not_lower_the_others_f1(spec: EntitySpec) -> None:
    labelled = households_labelled(share=0.2)
    labels = labels_within(labelled)
    others = cast(pd.Series, TRUTH.index.to_series()[~labelled])

    unsupervised = entity_f1(resolve(spec, RECORDS), among=others)
    supervised = entity_f1(resolve(spec, RECORDS, labels), among=others)

    assert 0 < labels["is_match"].mean() < 1
    assert supervised >= unsupervised - LABELS_F1_TOLERANCE


def entity_f1(resolution: Resolution, among: pd.Series | None = None) -> float:
    """Pairwise F1 of the entities against the truth, over the records `among` (all)."""
    ids = TRUTH.index.to_series() if among is None else among
    entities = cast(
        pd.DataFrame, resolution.entities.loc[resolution.entities["record_id"].isin(ids)]
    )
    true_pairs = true_pairs_from_entities(ids, TRUTH.loc[ids, "entity_id"])
    return pair_quality(entity_pairs(entities, "record_id"), true_pairs)["f1"]


def merged_household_pairs(resolution: Resolution) -> set[tuple[int, int]]:
    """Pairs of different people of one household (smaller entity id first) put in one
    entity."""
    pairs = entity_pairs(resolution.entities, "record_id")
    left = TRUTH.loc[pairs.get_level_values(0)]
    right = TRUTH.loc[pairs.get_level_values(1)]
    together = pd.DataFrame(
        {
            "left": np.minimum(left["entity_id"].to_numpy(), right["entity_id"].to_numpy()),
            "right": np.maximum(left["entity_id"].to_numpy(), right["entity_id"].to_numpy()),
            "household": left["household_id"].to_numpy() == right["household_id"].to_numpy(),
        }
    )
    people = together[together["household"] & (together["left"] != together["right"])]
    return set(zip(people["left"], people["right"], strict=True))


def twin_pairs() -> set[tuple[int, int]]:
    """Pairs of people (smaller entity id first) of one household born the same day."""
    people = originals().dropna(subset=["date_of_birth"])
    together = people.merge(people, on=["household_id", "date_of_birth"])
    twins = together[together["entity_id_x"] < together["entity_id_y"]]
    return set(zip(twins["entity_id_x"], twins["entity_id_y"], strict=True))


def households_labelled(share: float) -> pd.Series:
    """Whether each record's household is among a `share` of households drawn at random."""
    households = np.unique(TRUTH["household_id"].to_numpy())
    draw = np.random.default_rng(1)
    chosen = draw.choice(households, round(share * len(households)), replace=False)
    return cast(pd.Series, TRUTH["household_id"].isin(chosen.tolist()))


def labels_within(labelled: pd.Series) -> pd.DataFrame:
    """A reviewer's verdicts on every pair of records of the labelled households: the
    duplicates matches, household members (twins among them) non-matches."""
    records = TRUTH[labelled.to_numpy()].reset_index()
    pairs = records.merge(records, on="household_id")
    pairs = pairs[pairs["record_id_x"] < pairs["record_id_y"]]
    return pd.DataFrame(
        {
            "left_id": pairs["record_id_x"],
            "right_id": pairs["record_id_y"],
            "is_match": pairs["entity_id_x"] == pairs["entity_id_y"],
        }
    )


def originals() -> pd.DataFrame:
    """The original record of every person, normalised, with the person's truth."""
    people = normalised(cast(pd.DataFrame, RECORDS.loc[~TRUTH["is_copy"]]))
    return people.join(TRUTH[["entity_id", "household_id"]])


def normalised(records: pd.DataFrame) -> pd.DataFrame:
    """Records as a user's prepare step sees them: names folded, phones and emails normalised,
    streets in lower case."""
    return records.assign(
        given_name=fold_name(cast(pd.Series, records["given_name"])),
        surname=fold_name(cast(pd.Series, records["surname"])),
        phone=normalise_phone(cast(pd.Series, records["phone"])),
        email=normalise_email(cast(pd.Series, records["email"])),
    )
