"""Match scores of compared pairs: ECM, Fellegi-Sunter or logistic regression.

Scores come from recordlinkage's `ECMClassifier` (unsupervised Fellegi-Sunter), the
`fellegi_sunter` model (unsupervised, u-probabilities from random pairs) or
`LogisticRegressionClassifier` (when labelled pairs are given).
"""

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
import recordlinkage

from dataplatform.entities.compare import compare_pairs
from dataplatform.entities.diagnostics import LEVEL_COLUMNS, FitReport, fit_report, level_table
from dataplatform.entities.fellegi_sunter import fellegi_sunter_scores
from dataplatform.entities.quality import pair_key, unordered_pairs
from dataplatform.entities.spec import EntitySpec

# ECM's estimates are stable long before this many pairs; fitting on more only costs time
# (1M people: the same F1 from 150,000 to 500,000, and 2 s more per run at 500,000).
ECM_FIT_PAIRS = 250_000
# Enough random pairs to see agreement rates of one in a few thousand many times over.
BACKGROUND_PAIRS = 200_000


@dataclass(frozen=True)
class Background:
    """Features of random record pairs, and the number of pairs the fitted ones come from."""

    features: pd.DataFrame
    pairs: int


@dataclass(frozen=True)
class Classified:
    """Each pair's match probability, and the fitted m/u per comparison level (see
    `level_table`; empty for the supervised model)."""

    scores: pd.Series
    levels: pd.DataFrame


def classify(
    spec: EntitySpec,
    features: pd.DataFrame,
    labelled_pairs: pd.MultiIndex | None = None,
    training: pd.DataFrame | None = None,
    background: Background | None = None,
) -> Classified:
    """The match probability of each pair, in [0, 1], and the fitted m/u-probabilities.

    The model is fitted on `features` plus, if given, the `training` features of other
    pairs (which are not scored). The "fellegi_sunter" classifier also needs `background`
    (see `fellegi_sunter_scores`).

    Supervised (logistic regression) when labelled pairs are given or the spec asks for
    it: `labelled_pairs` are the known matches (in either order), every other pair is taken
    as a non-match. Otherwise unsupervised: recordlinkage's ECM (Fellegi-Sunter fitted by
    expectation-maximisation), which needs binary features (`EntitySpec` checks them); or
    the spec's "fellegi_sunter" model.
    """
    no_levels = pd.DataFrame(columns=pd.Index(LEVEL_COLUMNS))
    if features.empty:
        return Classified(pd.Series(np.zeros(0), index=features.index, name="score"), no_levels)
    fitted_on = features if training is None else pd.concat([features, training])
    if labelled_pairs is not None:
        return Classified(_supervised_scores(features, fitted_on, labelled_pairs), no_levels)
    if spec.classifier == "logistic":
        raise ValueError(f"spec {spec.name!r} uses a supervised classifier: pass labelled_pairs")
    if spec.classifier == "fellegi_sunter":
        if background is None:
            raise ValueError("the fellegi_sunter classifier needs background (random) pairs")
        scores, levels = fellegi_sunter_scores(
            features, fitted_on, background.features, background.pairs
        )
        return Classified(scores, levels)
    return _ecm_scores(features, fitted_on)


def scored_matches(
    spec: EntitySpec,
    pairs: pd.MultiIndex,
    left: pd.DataFrame,
    right: pd.DataFrame,
    labelled_pairs: pd.MultiIndex | None,
    pair_space: int,
    training: pd.DataFrame | None = None,
    background_records: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, FitReport]:
    """Scored candidate pairs at or above the threshold, and the report of the fit;
    `pair_space` counts the pairs the candidates (and `training`) were drawn from; random
    pairs for the "fellegi_sunter" model come from `background_records` (default: the left
    and right records)."""
    features = compare_pairs(spec, pairs, left, right)
    background = None
    if spec.classifier == "fellegi_sunter" and labelled_pairs is None and len(features):
        if background_records is not None:
            left = right = background_records
        background = background_pairs(spec, left, right, pair_space)
    classified = classify(spec, features, labelled_pairs, training, background)
    scores = classified.scores
    # Filter before adding the score: copying every candidate's features would double the peak.
    is_match = scores.to_numpy() >= spec.match_threshold
    evidence = features[is_match].assign(score=scores.to_numpy()[is_match])
    columns = ["left_id", "right_id", "score", *features.columns]
    matches = cast(pd.DataFrame, evidence.reset_index(names=["left_id", "right_id"])[columns])
    return matches, fit_report(spec, classified.levels, scores)


def background_pairs(
    spec: EntitySpec, left: pd.DataFrame, right: pd.DataFrame, pair_space: int
) -> Background:
    """Features of a fixed pseudo-random sample of pairs of distinct records."""
    draws = np.random.default_rng(0)
    count = min(BACKGROUND_PAIRS, pair_space)
    left_rows = draws.integers(len(left), size=count)
    right_rows = draws.integers(len(right), size=count)
    distinct = left.index[left_rows] != right.index[right_rows]
    pairs = pd.MultiIndex.from_arrays(
        [left.index[left_rows[distinct]], right.index[right_rows[distinct]]]
    )
    return Background(compare_pairs(spec, pairs, left, right), pair_space)


def _ecm_scores(features: pd.DataFrame, fitted_on: pd.DataFrame) -> Classified:
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
    return Classified(scores, level_table(model.m_probs, model.u_probs))


def _at_most(features: pd.DataFrame, count: int) -> pd.DataFrame:
    """A fixed pseudo-random sample of `count` rows (all rows if there are fewer)."""
    if len(features) <= count:
        return features
    return features.sample(count, random_state=0)


def _supervised_scores(
    features: pd.DataFrame, fitted_on: pd.DataFrame, labelled_pairs: pd.MultiIndex
) -> pd.Series:
    known = unordered_pairs(labelled_pairs)
    is_match = np.array([pair_key(a, b) in known for a, b in fitted_on.index])
    if not is_match.any():
        raise ValueError("none of the labelled_pairs is a candidate pair: nothing to learn from")
    model = recordlinkage.LogisticRegressionClassifier()
    model.fit(fitted_on, fitted_on.index[is_match])
    return model.prob(features).rename("score")
