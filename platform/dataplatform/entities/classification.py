"""Match scores of compared pairs: ECM, Fellegi-Sunter or logistic regression.

Scores come from recordlinkage's `ECMClassifier` (unsupervised Fellegi-Sunter), the
`fellegi_sunter` model (unsupervised, u-probabilities from random pairs; labels steer its
fit) or `LogisticRegressionClassifier` (supervised: fitted on the labelled pairs only).
Whatever the classifier, a labelled pair's score is its label: a person's verdict wins.
"""

from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd
import recordlinkage

from dataplatform.entities.blocking import comparisons_fitted_by_pass, pass_members
from dataplatform.entities.compare import compare_pairs
from dataplatform.entities.diagnostics import LEVEL_COLUMNS, FitReport, fit_report, level_table
from dataplatform.entities.feature_stack import FeatureStack
from dataplatform.entities.fellegi_sunter import Evidence, Session, fellegi_sunter_scores
from dataplatform.entities.pair_labels import labelled_rows
from dataplatform.entities.spec import Comparison, EntitySpec

# ECM's estimates are stable long before this many pairs; fitting on more only costs time
# (1M people: the same F1 from 150,000 to 500,000, and 2 s more per run at 500,000; their
# daily increment: the same F1 at 50,000, 100,000 and 250,000, where the fit, mostly
# recordlinkage's `np.unique` over the sampled rows, took a fifth of the increment's time).
ECM_FIT_PAIRS = 100_000
# Enough random pairs to see agreement rates of one in a few thousand many times over.
BACKGROUND_PAIRS = 200_000
NO_LABELS = (np.zeros(0, dtype=np.int64), np.zeros(0))
NOTHING_BELOW = pd.DataFrame({"left_id": [], "right_id": [], "score": []})
# The fitting sessions of each blocking pass see at most this many candidate pairs in all
# (a fixed sample): enough for a few m-probabilities, and bounded memory on big days.
SESSION_PAIRS = 1_000_000


@dataclass(frozen=True)
class Training:
    """Features of pairs the model is fitted on but that are not scored, and for each (a
    row) and blocking pass (a column) whether the pair is one of the pass's (see
    `blocking.pass_members`)."""

    features: pd.DataFrame
    passes: np.ndarray


@dataclass(frozen=True)
class Background:
    """Features of random record pairs, the number of pairs the fitted ones come from, and
    for each term-frequency comparison the share of the rarer of each random pair's values."""

    features: pd.DataFrame
    pairs: int
    rarer_value_u: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Classified:
    """Each pair's match probability, the fitted m/u per comparison level (see
    `level_table`; empty for the supervised model), the positions of the labelled pairs
    among the scored ones, and how many labelled pairs the fit used."""

    scores: pd.Series
    levels: pd.DataFrame
    labelled_rows: np.ndarray
    labels_used: int


@dataclass(frozen=True)
class Scored:
    """The candidate pairs at or above the threshold (`matches`) and those within the
    review band (`uncertain`, labelled pairs left out), with their score and features, the
    report of the fit, and if asked for, the pairs scored below the threshold whose two
    records both match another (`below`: ids and score; they could end up in one entity)."""

    matches: pd.DataFrame
    uncertain: pd.DataFrame
    fit: FitReport
    below: pd.DataFrame


def classify(
    spec: EntitySpec,
    features: pd.DataFrame,
    labels: pd.DataFrame | None = None,
    training: pd.DataFrame | None = None,
    background: Background | None = None,
    term_frequency_u: dict[str, np.ndarray] | None = None,
    sessions: tuple[Session, ...] = (),
    rarer_value_u: dict[str, np.ndarray] | None = None,
) -> Classified:
    """The match probability of each pair, in [0, 1], and the fitted m/u-probabilities.

    The model is fitted on `features` plus, if given, the `training` features of other
    pairs (which are not scored). `labels` (see `pair_labels`) name pairs in either order:
    "logistic" is fitted on the labelled pairs alone, "fellegi_sunter" keeps their verdicts
    through its fit, "ecm" is fitted without them; then every labelled pair is scored by its
    label (1 or 0). "fellegi_sunter" also needs `background` and takes `term_frequency_u`,
    `rarer_value_u` and `sessions` (see `fellegi_sunter_scores`; the sessions' rows are
    positions among `features` followed by `training`).
    """
    if spec.classifier == "logistic" and labels is None:
        raise ValueError(f"spec {spec.name!r} uses a supervised classifier: pass labels")
    if features.empty:
        empty = pd.Series(np.zeros(0), index=features.index, name="score")
        return Classified(empty, pd.DataFrame(columns=pd.Index(LEVEL_COLUMNS)), NO_LABELS[0], 0)
    fitted_on = FeatureStack((features,) if training is None else (features, training))
    rows, verdicts = NO_LABELS if labels is None else _labelled_rows(fitted_on, labels)
    if spec.classifier == "logistic":
        scores = _supervised_scores(spec, features, fitted_on, rows, verdicts)
        levels = pd.DataFrame(columns=pd.Index(LEVEL_COLUMNS))
    elif spec.classifier == "fellegi_sunter":
        if background is None:
            raise ValueError("the fellegi_sunter classifier needs background (random) pairs")
        evidence = Evidence(
            rows,
            verdicts,
            term_frequency_u or {},
            rarer_value_u or {},
            background.rarer_value_u if rarer_value_u else {},
        )
        scores, levels = fellegi_sunter_scores(
            features,
            fitted_on,
            background.features,
            background.pairs,
            evidence,
            sessions,
            spec.dependent_comparisons,
        )
    else:
        scores, levels = _ecm_scores(features, fitted_on)
    scored = rows < len(features)
    scores.iloc[rows[scored]] = verdicts[scored]
    return Classified(scores, levels, rows[scored], len(rows))


def _labelled_rows(fitted_on: FeatureStack, labels: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """`labelled_rows` over the stack's pairs: positions in the stack, ascending."""
    found = [labelled_rows(cast(pd.MultiIndex, part.index), labels) for part in fitted_on.parts]
    return (
        np.concatenate(
            [rows + start for (rows, _), start in zip(found, fitted_on.starts, strict=True)]
        ),
        np.concatenate([verdicts for _, verdicts in found]),
    )


def scored_matches(
    spec: EntitySpec,
    pairs: pd.MultiIndex,
    left: pd.DataFrame,
    right: pd.DataFrame,
    labels: pd.DataFrame | None,
    pair_space: int,
    training: Training | None = None,
    background_records: pd.DataFrame | None = None,
    with_below: bool = False,
) -> Scored:
    """The scored candidate pairs at or above the threshold and within the review band, the
    report of the fit, and `with_below`, the pairs under the threshold that clustering reads
    (see `Scored`); `pair_space` counts the pairs the candidates (and `training`) were
    drawn from; random pairs and term frequencies for the "fellegi_sunter" model come from
    `background_records` (default: the left and right records)."""
    features = compare_pairs(spec, pairs, left, right)
    sides = [left] if left is right else [left, right]
    seen = sides if background_records is None else [background_records]
    shares = value_shares(spec, pairs, left, right, seen)
    background, sessions = None, ()
    if spec.classifier == "fellegi_sunter" and len(features):
        background = background_pairs(spec, seen[0], seen[-1], pair_space, seen)
        sessions = fit_sessions(spec, pairs, left, right, training)
    classified = classify(
        spec,
        features,
        labels,
        None if training is None else training.features,
        background,
        {label: np.fmax(*sides) for label, sides in shares.items()},
        sessions,
        {label: np.fmin(*sides) for label, sides in shares.items()},
    )
    fit = fit_report(spec, classified.levels, classified.scores, classified.labels_used)
    scores = classified.scores.to_numpy()
    low, high = spec.review_band
    in_band = (scores >= low) & (scores <= high)
    in_band[classified.labelled_rows] = False
    matched = scores >= fit.threshold
    return Scored(
        _with_scores(features, scores, matched),
        _with_scores(features, scores, in_band),
        fit,
        _below(pairs, scores, matched) if with_below else NOTHING_BELOW,
    )


def _below(pairs: pd.MultiIndex, scores: np.ndarray, matched: np.ndarray) -> pd.DataFrame:
    """The pairs not `matched` whose two records are both in a matched pair."""
    left, right = pairs.get_level_values(0), pairs.get_level_values(1)
    ends = pd.Index(np.concatenate([left[matched], right[matched]]))
    chosen = ~matched & left.isin(ends) & right.isin(ends)
    return pd.DataFrame(
        {"left_id": left[chosen], "right_id": right[chosen], "score": scores[chosen]}
    )


def fit_sessions(
    spec: EntitySpec,
    pairs: pd.MultiIndex,
    left: pd.DataFrame,
    right: pd.DataFrame,
    training: Training | None = None,
) -> tuple[Session, ...]:
    """One fitting session per blocking pass: its pairs among (a sample of) the candidates
    and the training pairs, and the comparisons it does not select on."""
    sample = _fixed_sample(len(pairs), SESSION_PAIRS)
    members = pass_members(spec, cast(pd.MultiIndex, pairs[sample]), left, right)
    if training is not None:
        sample = np.concatenate([sample, len(pairs) + np.arange(len(training.features))])
        members = np.concatenate([members, training.passes])
    return tuple(
        Session(sample[members[:, position]], comparisons_fitted_by_pass(spec, keys))
        for position, keys in enumerate(spec.blocking)
    )


def _fixed_sample(count: int, size: int) -> np.ndarray:
    """Sorted positions of a fixed pseudo-random sample of `size` of `count` (all if fewer)."""
    if count <= size:
        return np.arange(count)
    return np.sort(np.random.default_rng(0).choice(count, size, replace=False))


def _with_scores(features: pd.DataFrame, scores: np.ndarray, chosen: np.ndarray) -> pd.DataFrame:
    """The chosen pairs' ids, score and features."""
    # Chosen before adding the score: copying every candidate's features would double the peak.
    evidence = features[chosen].assign(score=scores[chosen])
    columns = ["left_id", "right_id", "score", *features.columns]
    return cast(pd.DataFrame, evidence.reset_index(names=["left_id", "right_id"])[columns])


def background_pairs(
    spec: EntitySpec,
    left: pd.DataFrame,
    right: pd.DataFrame,
    pair_space: int,
    seen: list[pd.DataFrame] | None = None,
) -> Background:
    """Features of a fixed pseudo-random sample of pairs of distinct records, and the share
    among the `seen` records (default: `left` and `right`) of the rarer of each pair's values
    of each term-frequency comparison."""
    draws = np.random.default_rng(0)
    count = min(BACKGROUND_PAIRS, pair_space)
    left_rows = draws.integers(len(left), size=count)
    right_rows = draws.integers(len(right), size=count)
    distinct = left.index[left_rows] != right.index[right_rows]
    pairs = pd.MultiIndex.from_arrays(
        [left.index[left_rows[distinct]], right.index[right_rows[distinct]]]
    )
    shares = value_shares(
        spec, pairs, left, right, seen or ([left] if left is right else [left, right])
    )
    return Background(
        compare_pairs(spec, pairs, left, right),
        pair_space,
        {label: np.fmin(*sides) for label, sides in shares.items()},
    )


def value_shares(
    spec: EntitySpec,
    pairs: pd.MultiIndex,
    left: pd.DataFrame,
    right: pd.DataFrame,
    seen: list[pd.DataFrame],
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each term-frequency comparison, the share of the `seen` records holding each
    pair's left value and its right value (NaN for a missing value). The larger of the two
    is the u of a value both agree on; the smaller weighs a typo (see `fellegi_sunter`)."""
    sides = {}
    for comparison in spec.comparisons:
        if not comparison.term_frequency:
            continue
        column = _term_frequency_column(spec, comparison)
        values = pd.concat([cast(pd.Series, records[column]) for records in seen]).dropna()
        shares = values.value_counts(normalize=True)
        sides[comparison.label] = (
            _per_pair(cast(pd.Series, left[column]), pairs, 0, shares),
            _per_pair(cast(pd.Series, right[column]), pairs, 1, shares),
        )
    return sides


def _term_frequency_column(spec: EntitySpec, comparison: Comparison) -> str:
    """The one column of a term-frequency comparison (`Comparison` checks its form)."""
    if spec.classifier != "fellegi_sunter":
        raise ValueError(
            f"comparison {comparison.label!r}: term frequencies adjust the fellegi_sunter"
            f" classifier only, not {spec.classifier!r}"
        )
    return cast(str, comparison.column)


def _per_pair(values: pd.Series, pairs: pd.MultiIndex, level: int, shares: pd.Series) -> np.ndarray:
    """The share of the value of each pair's record on `level` (NaN for a missing value)."""
    positions = values.index.get_indexer(pairs.levels[level])
    per_record = values.map(shares).to_numpy(dtype=np.float64)
    per_level = np.where(positions >= 0, per_record[positions], np.nan)
    return per_level[pairs.codes[level]]


def _ecm_scores(features: pd.DataFrame, fitted_on: FeatureStack) -> tuple[pd.Series, pd.DataFrame]:
    model = recordlinkage.ECMClassifier()
    model.fit(_at_most(fitted_on, ECM_FIT_PAIRS).astype(np.int8))
    # Binary features take few distinct patterns: score each pattern once.
    codes = np.zeros(len(features), dtype=np.int64)
    for bit, label in enumerate(features):
        codes |= features[label].to_numpy().astype(np.int64) << bit
    _, first, pattern_of_pair = np.unique(codes, return_index=True, return_inverse=True)
    patterns = features.iloc[first].astype(np.int8)
    pattern_scores = model.prob(patterns).to_numpy()
    scores = pd.Series(pattern_scores[pattern_of_pair], index=features.index, name="score")
    return scores, level_table(model.m_probs, model.u_probs)


def _at_most(features: FeatureStack, count: int) -> pd.DataFrame:
    """A fixed pseudo-random sample of `count` rows (all rows if there are fewer), the rows
    `DataFrame.sample(count, random_state=0)` draws."""
    if len(features) <= count:
        return features.take(np.arange(len(features)))
    return features.take(np.random.RandomState(0).choice(len(features), count, replace=False))


def _supervised_scores(
    spec: EntitySpec,
    features: pd.DataFrame,
    fitted_on: FeatureStack,
    rows: np.ndarray,
    verdicts: np.ndarray,
) -> pd.Series:
    """Logistic regression fitted on the labelled pairs only."""
    if not len(rows):
        raise ValueError("none of the labels names a candidate pair: nothing to learn from")
    if verdicts.min() == verdicts.max():
        found = "matches" if verdicts[0] else "non-matches"
        raise ValueError(
            f"spec {spec.name!r}: the logistic classifier needs labelled matches and"
            f" non-matches among the candidate pairs, but the labels name only {found}"
        )
    labelled = fitted_on.take(rows)
    model = recordlinkage.LogisticRegressionClassifier()
    model.fit(_with_missing_flags(spec, labelled), labelled.index[verdicts == 1])
    return model.prob(_with_missing_flags(spec, features)).rename("score")


def _with_missing_flags(spec: EntitySpec, features: pd.DataFrame) -> pd.DataFrame:
    """The features with missing values as 0, plus a 0/1 column flagging them for every
    comparison that leaves them missing (so the regression learns what missing means)."""
    unfilled = [c.label for c in spec.comparisons if c.missing_value is None]
    flags = {f"{label}__missing": features[label].isna().astype(np.float64) for label in unfilled}
    return features.fillna(0.0).assign(**flags)
