"""An unsupervised Fellegi-Sunter model whose u-probabilities come from random record pairs.

recordlinkage's ECM fits the m- and u-probabilities of both classes on the candidate pairs.
Blocking makes the non-matches among those pairs agree on the blocked fields, pass by pass,
so on a table whose values repeat a lot (few names, few cities) ECM can take "the pairs of
one pass" for the match class. Here, as in Splink, the u-probabilities (how often two
unrelated records agree by chance) are counted on random pairs of the whole table, where
matches are negligible, and kept fixed; expectation-maximisation then estimates only the
m-probabilities and the share of matching pairs. Blocking selects pairs by their values
only, so it leaves each pattern's likelihood ratio m/u unchanged: the posterior is taken
over the whole pair space (`pair_space` pairs), where every pair that no pass proposed has a
negligible probability of matching. Features may have several levels (e.g. 0, 0.5, 1).
"""

from typing import cast

import numpy as np
import pandas as pd

from dataplatform.entities.diagnostics import level_table

MAX_ITERATIONS = 200
TOLERANCE = 1e-8
# Initial m-probability of the highest level of each feature (the rest share the remainder).
INITIAL_TOP_LEVEL_M = 0.9
# Initial guess: one record in ten has a duplicate.
INITIAL_DUPLICATE_SHARE = 0.1
# Pseudo-count added to every level (a level never seen keeps a small probability).
SMOOTHING = 0.1


def fellegi_sunter_scores(
    features: pd.DataFrame, fitted_on: pd.DataFrame, background: pd.DataFrame, pair_space: int
) -> tuple[pd.Series, pd.DataFrame]:
    """Match probability of each pair of `features`, by a model fitted on `fitted_on`, and
    the fitted m/u per comparison level (see `level_table`).

    `background` holds the features of random record pairs (for the u-probabilities);
    `pair_space` is the number of pairs `fitted_on` was drawn from (all pairs of the table).
    """
    levels = {label: np.union1d(fitted_on[label], background[label]) for label in features}
    log_u = {
        label: _log_shares(cast(pd.Series, background[label]), levels[label], None)
        for label in features
    }
    patterns, counts = _patterns(fitted_on)
    log_m, log_prior = _fit(patterns, counts, log_u, levels, pair_space)
    log_odds = log_prior + _log_ratio(features, log_m, log_u, levels)
    scores = pd.Series(1 / (1 + np.exp(-log_odds)), index=features.index, name="score")
    m, u = (
        {label: dict(zip(levels[label], np.exp(logs[label]), strict=True)) for label in features}
        for logs in (log_m, log_u)
    )
    return scores, level_table(m, u)


def _fit(
    patterns: pd.DataFrame,
    counts: np.ndarray,
    log_u: dict[str, np.ndarray],
    levels: dict[str, np.ndarray],
    pair_space: int,
) -> tuple[dict[str, np.ndarray], float]:
    """EM over the distinct patterns: m-probabilities and the log prior odds of a match."""
    log_m = {label: _initial_log_m(len(levels[label])) for label in patterns}
    records = np.sqrt(2 * pair_space)
    share = min(INITIAL_DUPLICATE_SHARE * records / pair_space, 0.5)
    for _ in range(MAX_ITERATIONS):
        log_prior = np.log(share) - np.log1p(-share)
        posterior = 1 / (1 + np.exp(-(log_prior + _log_ratio(patterns, log_m, log_u, levels))))
        weights = counts * posterior
        new_share = min(max(weights.sum() / pair_space, 1e-300), 0.5)
        log_m = {
            label: _log_shares(cast(pd.Series, patterns[label]), levels[label], weights)
            for label in patterns
        }
        converged = abs(new_share - share) <= TOLERANCE * share
        share = new_share
        if converged:
            break
    return log_m, float(np.log(share) - np.log1p(-share))


def _patterns(features: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    grouped = features.groupby(list(features.columns), sort=False).size()
    return grouped.index.to_frame(index=False), grouped.to_numpy(dtype=np.float64)


def _initial_log_m(level_count: int) -> np.ndarray:
    if level_count == 1:
        return np.zeros(1)
    rest = (1 - INITIAL_TOP_LEVEL_M) / (level_count - 1)
    return np.log(np.append(np.full(level_count - 1, rest), INITIAL_TOP_LEVEL_M))


def _log_shares(values: pd.Series, levels: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Log of the (weighted) share of each level, with `SMOOTHING`."""
    positions = np.searchsorted(levels, values.to_numpy())
    totals = np.bincount(positions, weights=weights, minlength=len(levels)) + SMOOTHING
    return np.log(totals / totals.sum())


def _log_ratio(
    features: pd.DataFrame,
    log_m: dict[str, np.ndarray],
    log_u: dict[str, np.ndarray],
    levels: dict[str, np.ndarray],
) -> np.ndarray:
    """Sum over the features of log(m/u) of each pair's level."""
    total = np.zeros(len(features))
    for label in features:
        positions = np.searchsorted(levels[label], features[label].to_numpy())
        total += (log_m[label] - log_u[label])[positions]
    return total
