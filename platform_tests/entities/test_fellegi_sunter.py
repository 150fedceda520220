"""The Fellegi-Sunter model: missing values carry no evidence, term frequencies, labels,
dependent comparisons."""

import numpy as np
import pandas as pd
import pytest

from dataplatform.entities import feature_stack, fellegi_sunter
from dataplatform.entities.feature_stack import FeatureStack
from dataplatform.entities.fellegi_sunter import (
    TF_MINIMUM_U,
    Evidence,
    Session,
    fellegi_sunter_scores,
)

PAIR_SPACE = 1_000_000
# Small enough that the fit finds the training's matches, and a third of the fitted pairs still
# holds a few matches per thousand pairs (over a million pairs, two weak features find none).
FITTING_PAIR_SPACE = 10_000


def pairs(a: list[float], b: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"a": a, "b": b}, dtype=np.float64)


@pytest.fixture(scope="module")
def training() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidate pairs (a quarter agreeing on both features, the rest mostly disagreeing,
    some values missing) and random pairs that rarely agree."""
    draws = np.random.default_rng(0)
    matches = draws.random((500, 2)) < 0.95
    others = draws.random((1500, 2)) < 0.1
    fitted = pd.DataFrame(np.vstack([matches, others]).astype(float), columns=pd.Index(["a", "b"]))
    fitted = fitted.mask(draws.random(fitted.shape) < 0.1)
    background = pd.DataFrame(
        (draws.random((20_000, 2)) < 0.02).astype(float), columns=pd.Index(["a", "b"])
    )
    return fitted, background


def logit(scores: pd.Series) -> np.ndarray:
    values = scores.to_numpy()
    return np.log(values / (1 - values))


def agreement_weight(levels: pd.DataFrame, label: str) -> float:
    """The natural-log weight of agreeing (level 1) on `label`."""
    row = levels.query(f"comparison == '{label}' and level == 1.0")
    return float(row["match_weight"].iloc[0]) * np.log(2)


def test_a_missing_value_adds_a_weight_of_zero(training) -> None:
    fitted, background = training
    probes = pairs([1, 1, np.nan], [1, np.nan, np.nan])

    scores, levels = fellegi_sunter_scores(probes, fitted, background, PAIR_SPACE)

    both, a_only, neither = logit(scores)
    assert a_only == pytest.approx(both - agreement_weight(levels, "b"))
    assert neither == pytest.approx(a_only - agreement_weight(levels, "a"))


def test_missing_values_have_no_level_and_do_not_count_in_m_or_u(training) -> None:
    fitted, background = training
    blanked = pd.concat([background, pairs([np.nan] * 5000, [np.nan] * 5000)])

    _, levels = fellegi_sunter_scores(fitted, fitted, background, PAIR_SPACE)
    _, with_blanks = fellegi_sunter_scores(fitted, fitted, blanked, PAIR_SPACE)

    assert sorted(levels["level"].unique()) == [0.0, 1.0]
    assert levels.groupby("comparison")[["m", "u"]].sum().to_numpy() == pytest.approx(1.0)
    pd.testing.assert_frame_equal(with_blanks, levels)


def test_a_common_agreed_value_weighs_less_than_a_rare_one(training) -> None:
    fitted, background = training
    probes = pairs([1, 1, 1, 1, 0], [0, 0, 0, 0, 0])
    # a's chance agreement is 1 in 50 on average: 1 in 5 (common), 1 in 5,000 (rare), unknown
    # value, and a unique value whose share is floored; the last pair does not agree on a
    agreed_u = np.array([0.2, 2e-4, np.nan, 1e-9, 0.2])
    evidence = Evidence(term_frequency_u={"a": agreed_u})

    plain, levels = fellegi_sunter_scores(probes, fitted, background, PAIR_SPACE)
    adjusted, _ = fellegi_sunter_scores(probes, fitted, background, PAIR_SPACE, evidence)

    common, rare, unknown, unique, disagreeing = logit(adjusted)
    average = logit(plain)[0]
    u_agree = float(levels.query("comparison == 'a' and level == 1.0")["u"].iloc[0])
    assert common < average < rare < unique
    assert common == pytest.approx(average + np.log(u_agree / 0.2))
    assert unique == pytest.approx(average + np.log(u_agree / TF_MINIMUM_U))
    assert unknown == pytest.approx(average)
    assert disagreeing == pytest.approx(logit(plain)[4])


def test_a_typo_level_weighs_more_when_the_rarer_value_is_rare() -> None:
    # a in three levels (0, a typo 0.5, 1); b in two
    draws = np.random.default_rng(0)
    fitted = pd.DataFrame(
        {
            "a": np.concatenate([draws.choice([0.5, 1.0], 500, p=[0.3, 0.7]), np.zeros(1500)]),
            "b": (draws.random(2000) < np.repeat([0.95, 0.1], [500, 1500])).astype(float),
        }
    )
    background = pd.DataFrame(
        {
            "a": draws.choice([0.0, 0.5, 1.0], 20_000, p=[0.96, 0.02, 0.02]),
            "b": (draws.random(20_000) < 0.02).astype(float),
        }
    )
    # the random pairs a typo apart: the rarer value held by 1 in 100 or 1 in 1,000 records
    background_rarer = np.where(background["a"] == 0.5, 0.01, np.nan)
    background_rarer[np.flatnonzero(background["a"] == 0.5)[::2]] = 0.001
    typical = np.exp(np.nanmean(np.log(background_rarer)))  # about 1 in 316
    probes = pairs([0.5, 0.5, 0.5, 1.0], [1, 1, 1, 1])
    # a typo whose rarer value is common, rare, unknown; an exact agreement (not adjusted)
    evidence = Evidence(
        rarer_value_u={"a": np.array([0.05, 2e-4, np.nan, 2e-4])},
        background_rarer_value_u={"a": background_rarer},
    )

    plain = logit(fellegi_sunter_scores(probes, fitted, background, FITTING_PAIR_SPACE)[0])
    adjusted = logit(
        fellegi_sunter_scores(probes, fitted, background, FITTING_PAIR_SPACE, evidence)[0]
    )

    common, rare, unknown, exact = adjusted - plain
    assert common == pytest.approx(np.log(typical / 0.05))
    assert rare == pytest.approx(np.log(typical / 2e-4))
    assert common < 0 < rare
    assert unknown == exact == 0


def test_labelled_pairs_keep_their_verdict_through_the_fit(training) -> None:
    fitted, background = training
    # Every pair agreeing on a alone, labelled a non-match: agreeing on a alone becomes
    # less likely among matches, so it weighs less.
    alone = np.flatnonzero((fitted["a"] == 1).to_numpy() & (fitted["b"] == 0).to_numpy())
    evidence = Evidence(rows=alone, verdicts=np.zeros(len(alone)))
    probe = pairs([1], [0])

    unlabelled, _ = fellegi_sunter_scores(probe, fitted, background, FITTING_PAIR_SPACE)
    labelled, _ = fellegi_sunter_scores(probe, fitted, background, FITTING_PAIR_SPACE, evidence)

    assert logit(labelled)[0] < logit(unlabelled)[0] - 1


def m_of(levels: pd.DataFrame, label: str) -> np.ndarray:
    return levels.query(f"comparison == '{label}'")["m"].to_numpy()


def test_a_session_fits_its_comparisons_on_its_pairs_alone(training) -> None:
    fitted, background = training
    # c tells nothing (a coin flip for every pair): the session finds the matches of the fit
    # over every comparison, and c's m stays that fit's.
    draws = np.random.default_rng(1)
    fitted = fitted.assign(c=(draws.random(len(fitted)) < 0.5).astype(float))
    background = background.assign(c=(draws.random(len(background)) < 0.5).astype(float))
    rows = np.arange(0, len(fitted), 3)
    session = Session(rows, ("a", "b"))

    _, levels = fellegi_sunter_scores(
        fitted, fitted, background, FITTING_PAIR_SPACE, sessions=(session,)
    )
    on_rows = fitted.iloc[rows][["a", "b"]]
    _, alone = fellegi_sunter_scores(on_rows, on_rows, background, FITTING_PAIR_SPACE)
    _, overall = fellegi_sunter_scores(fitted, fitted, background, FITTING_PAIR_SPACE)

    for label in ("a", "b"):
        np.testing.assert_allclose(m_of(levels, label), m_of(alone, label))
    assert not np.allclose(m_of(levels, "a"), m_of(overall, "a"))
    np.testing.assert_allclose(m_of(levels, "c"), m_of(overall, "c"))


def test_a_session_that_finds_hardly_any_match_is_left_out(training) -> None:
    fitted, background = training
    rows = np.arange(0, len(fitted), 3)
    on_rows = fitted.iloc[rows]

    # Two weak features cannot lift a third of the pairs over a million pairs' prior.
    _, alone = fellegi_sunter_scores(on_rows, on_rows, background, PAIR_SPACE)
    _, levels = fellegi_sunter_scores(
        fitted, fitted, background, PAIR_SPACE, sessions=(Session(rows, ("a", "b")),)
    )
    _, overall = fellegi_sunter_scores(fitted, fitted, background, PAIR_SPACE)

    assert not alone["fitted"].any()  # it found no match: its m, smoothing alone, is refused
    np.testing.assert_allclose(levels["m"].to_numpy(), overall["m"].to_numpy())


def test_a_fit_that_finds_no_match_or_one_against_agreement_is_refused_for_the_prior(
    training,
) -> None:
    fitted, background = training
    # Over a million pairs the two weak features find no match: m is smoothing alone (0.5).
    _, none_found = fellegi_sunter_scores(fitted, fitted, background, PAIR_SPACE)
    # Labels that make the pairs agreeing on b alone the matches, and those agreeing on both
    # non-matches: "matches" never agree on a.
    a, b = (fitted[label].to_numpy() for label in ("a", "b"))
    rows = np.flatnonzero(b == 1)
    evidence = Evidence(rows=rows, verdicts=(a[rows] == 0).astype(float))
    _, against_a = fellegi_sunter_scores(fitted, fitted, background, FITTING_PAIR_SPACE, evidence)

    np.testing.assert_allclose(m_of(none_found, "a"), [0.1, 0.9])
    assert not none_found["fitted"].any()
    assert set(against_a.loc[~against_a["fitted"], "comparison"]) == {"a"}
    np.testing.assert_allclose(m_of(against_a, "a"), [0.1, 0.9])


def test_sessions_average_the_m_of_a_comparison_they_share(training) -> None:
    fitted, background = training
    first, second = np.arange(0, len(fitted), 2), np.arange(1, len(fitted), 2)

    def m_with(*sessions: Session) -> np.ndarray:
        _, levels = fellegi_sunter_scores(
            fitted, fitted, background, FITTING_PAIR_SPACE, sessions=sessions
        )
        return levels["m"].to_numpy()

    both = m_with(Session(first, ("a", "b")), Session(second, ("a", "b")))
    alone = [m_with(Session(rows, ("a", "b"))) for rows in (first, second)]

    assert not np.allclose(alone[0], alone[1])
    np.testing.assert_allclose(both, (alone[0] + alone[1]) / 2)


def one_error_each() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidate pairs whose matches disagree on exactly one of three comparisons (as
    RLdata's copies carry one error each), others agreeing by chance, and random pairs."""
    draws = np.random.default_rng(0)
    matches = np.ones((600, 3))
    matches[np.arange(600), np.arange(600) % 3] = 0
    others = (draws.random((3000, 3)) < 0.05).astype(float)
    labels = pd.Index(["a", "b", "c"])
    fitted = pd.DataFrame(np.vstack([matches, others]), columns=labels)
    background = pd.DataFrame((draws.random((20_000, 3)) < 0.05).astype(float), columns=labels)
    return fitted, background


def test_dependent_comparisons_learn_that_a_match_disagrees_on_one_of_them() -> None:
    fitted, background = one_error_each()
    probes = pd.DataFrame({"a": [1.0, 0.0], "b": [1.0, 0.0], "c": [0.0, 1.0]})

    independent, levels = fellegi_sunter_scores(probes, fitted, background, FITTING_PAIR_SPACE)
    dependent, dependent_levels = fellegi_sunter_scores(
        probes, fitted, background, FITTING_PAIR_SPACE, dependent=("a", "b", "c")
    )

    one_error, two_errors = logit(dependent)
    # Independence takes a match's one error as evidence against it; the joint m knows
    # that every match has one (measured: log odds 1.35 -> 2.14), and that none has two
    # (-2.31 -> -4.07).
    assert one_error > logit(independent)[0] + 0.5
    assert two_errors < logit(independent)[1] - 1
    assert dependent_levels.equals(levels)  # the m/u table reports the independent fit


@pytest.mark.parametrize("dependent", [(), ("a", "b")])
def test_a_fit_on_a_stack_read_in_chunks_scores_as_one_on_the_concatenated_pairs(
    training, monkeypatch, dependent: tuple[str, ...]
) -> None:
    fitted, background = training
    # Chunks smaller than either part, so that codes and patterns are merged across them.
    monkeypatch.setattr(feature_stack, "CHUNK_ROWS", 300)
    monkeypatch.setattr(fellegi_sunter, "CHUNK_ROWS", 300)
    scored, trained = fitted.iloc[:1200], fitted.iloc[1200:]
    rows = np.arange(0, len(fitted), 3)
    evidence = Evidence(rows=np.array([5, 1500]), verdicts=np.array([1.0, 0.0]))
    sessions = (Session(rows, ("a", "b")),)

    def scores(fitted_on: pd.DataFrame | FeatureStack) -> tuple[pd.Series, pd.DataFrame]:
        return fellegi_sunter_scores(
            scored, fitted_on, background, FITTING_PAIR_SPACE, evidence, sessions, dependent
        )

    as_one, as_one_levels = scores(fitted)
    stacked, stacked_levels = scores(FeatureStack((scored, trained)))

    pd.testing.assert_series_equal(stacked, as_one, check_exact=True)
    pd.testing.assert_frame_equal(stacked_levels, as_one_levels, check_exact=True)


def test_a_stack_takes_rows_across_its_parts_in_the_order_asked() -> None:
    frame = pd.DataFrame({"a": np.arange(10.0)}, index=pd.Index(list("abcdefghij")))
    stack = FeatureStack((frame.iloc[:4], frame.iloc[4:4], frame.iloc[4:]))
    rows = np.array([9, 0, 4, 3, 7, 0])

    pd.testing.assert_frame_equal(stack.take(rows), frame.iloc[rows])
    assert len(stack) == 10
    assert [chunk for chunk, _ in stack.column_chunks("a")] == [slice(0, 4), slice(4, 10)]
