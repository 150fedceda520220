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

A missing feature (NaN) is no evidence either way: it adds a weight log(m/u) of 0 and is
left out of the m- and u-shares, so the m/u table (`level_table`) has no row for it.
Labelled pairs keep their verdict through expectation-maximisation (their posterior is
clamped to 1 or 0), so a few labels steer the m-probabilities without any unlabelled pair
being taken for a non-match. A term-frequency adjustment (as in Splink) replaces, for a pair
agreeing exactly on a value, the level's average u by the share of records with that value
(floored at `TF_MINIMUM_U`); it applies to the scores, while expectation-maximisation fits
the levels' average weights, as Splink's does. A typo level (between disagreement and exact
agreement) of such a comparison is adjusted too, by the share of the rarer of the pair's two
values: a typo makes a rare value, so two records a typo apart whose rarer value is rare
("RUDOALF", "RUDOLF") are likelier one person's than two holding common names that happen
to be close ("SCHMITT", "SCHMIDT"). Under a match the chance of seeing the two values grows
as 1/share of the rarer, under a non-match it is the product of their shares; the
adjustment is log(typical share) - log(the pair's rarer share), the typical share being the
geometric mean over the random pairs at that level, so the level's average weight among
non-matches is kept.

Correlated comparisons break the model's independence among non-matches: the members of a
household agree on surname and home far more often than random pairs, and when a blocking
pass proposes all of them, expectation-maximisation over every candidate takes them for the
match class. So, as Splink trains on one blocking rule at a time, the m-probabilities are
fitted in sessions (`Session`), one per blocking pass, each on the pass's pairs and over
the comparisons it does not select on, with the table's prior; a session that finds too few
of the matches the fit over every candidate sees among its pairs is left out (see
`_session_log_m`). A comparison's m is the mean over its sessions (the fit over every
candidate where no session has it), then the share of matches is fitted over every candidate
with the m held. On people in households, the passes on name sounds, birth date and email
fit every comparison among pairs that housemates rarely share, and the phone pass, where
they are many, is left out.
"""

from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd

from dataplatform.entities.dependent import Patterns, fit_joint, group_patterns
from dataplatform.entities.diagnostics import DISAGREEMENT_M_WARNING, level_table
from dataplatform.entities.feature_stack import CHUNK_ROWS, FeatureStack

MAX_ITERATIONS = 200
TOLERANCE = 1e-8
# Initial m-probability of the highest level of each feature (the rest share the remainder).
INITIAL_TOP_LEVEL_M = 0.9
# Initial guess: one record in ten has a duplicate.
INITIAL_DUPLICATE_SHARE = 0.1
# Pseudo-count added to every level (a level never seen keeps a small probability).
SMOOTHING = 0.1
# Floor of a value's term frequency (Splink's `tf_minimum_u_value`): a value seen once among
# the background records would otherwise get the weight of a unique identifier. One in
# 10,000 is about the share of a rare surname in a national population.
TF_MINIMUM_U = 1e-4
# A session with fewer pairs than this is not fitted (its estimates would be noise).
MIN_SESSION_PAIRS = 50
# A session that finds fewer matches than this share of those the fit over every candidate
# expects among its pairs has too little evidence left (see `_session_log_m`). Measured:
# the demo users' passes find 0.68 and 0.77 (their m of a home disagreement fell from 0.10 to
# 0.0005 and F1 from 0.97 to 0.93), the households' name, birth-date and email passes 0.86 to
# 0.97, their phone pass 0.41 (the overall fit took housemates for matches).
MIN_SESSION_SHARE = 0.8
# Pattern codes are folded into dense ones before they could overflow an int64.
MAX_CODE = 2**62


@dataclass(frozen=True)
class Evidence:
    """What the model knows beyond the features: verdicts on some fitted pairs (`rows` are
    positions in the fitted features, `verdicts` 1 for a match, 0 for a non-match), and for
    each term-frequency comparison the u of the value each scored pair agrees on (NaN where
    it does not agree or the value is unknown); for the typo levels, the share of the rarer
    of each scored pair's two values and of each background pair's (NaN where unknown)."""

    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    verdicts: np.ndarray = field(default_factory=lambda: np.zeros(0))
    term_frequency_u: dict[str, np.ndarray] = field(default_factory=dict)
    rarer_value_u: dict[str, np.ndarray] = field(default_factory=dict)
    background_rarer_value_u: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Session:
    """The fitted pairs of one blocking pass (`rows`, positions in the fitted features) and
    the comparisons whose m-probabilities they estimate (`labels`)."""

    rows: np.ndarray
    labels: tuple[str, ...]


def fellegi_sunter_scores(
    features: pd.DataFrame,
    fitted_on: pd.DataFrame | FeatureStack,
    background: pd.DataFrame,
    pair_space: int,
    evidence: Evidence | None = None,
    sessions: tuple[Session, ...] = (),
    dependent: tuple[str, ...] = (),
) -> tuple[pd.Series, pd.DataFrame]:
    """Match probability of each pair of `features`, by a model fitted on `fitted_on`, and
    the fitted m/u per comparison level (see `level_table`).

    `background` holds the features of random record pairs (for the u-probabilities);
    `pair_space` is the number of pairs `fitted_on` was drawn from (all pairs of the table);
    `sessions` fit the m-probabilities pass by pass (see the module docstring); the
    `dependent` comparisons get one m per combination of their levels (see `dependent`),
    starting from the independent fit, which the m/u table reports.
    """
    evidence = evidence or Evidence()
    fitted_on = FeatureStack.of(fitted_on)
    levels = {label: _levels(fitted_on, label, _values(background, label)) for label in features}
    log_u = {
        label: _log_shares(
            _positions(_values(background, label), levels[label]), len(levels[label])
        )
        for label in features
    }
    log_m, log_prior = _fit(fitted_on, evidence, log_u, levels, pair_space)
    if sessions:
        overall = (log_m, log_prior)
        log_m = _session_log_m(fitted_on, evidence, log_u, levels, pair_space, overall, sessions)
        _, log_prior = _fit(fitted_on, evidence, log_u, levels, pair_space, log_m)
    implausible = _implausible(log_m, log_u)
    if implausible:
        log_m = {**log_m, **{label: _initial_log_m(len(levels[label])) for label in implausible}}
        _, log_prior = _fit(fitted_on, evidence, log_u, levels, pair_space, log_m)
    if dependent:
        log_odds = _dependent_log_odds(
            features, fitted_on, evidence, (log_m, log_u, levels), log_prior, pair_space, dependent
        )
    else:
        log_odds = _log_ratio(features, log_m, log_u, levels)
        log_odds += log_prior
    for label, agreed_u in evidence.term_frequency_u.items():
        log_odds += _term_frequency_adjustment(
            cast(pd.Series, features[label]), levels[label], log_u[label], agreed_u
        )
    for label, rarer_u in evidence.rarer_value_u.items():
        log_odds += _typo_level_adjustment(
            _values(features, label),
            levels[label],
            rarer_u,
            _values(background, label),
            evidence.background_rarer_value_u[label],
        )
    scores = pd.Series(_probabilities(log_odds), index=features.index, name="score")
    m, u = (
        {label: dict(zip(levels[label], np.exp(logs[label]), strict=True)) for label in features}
        for logs in (log_m, log_u)
    )
    return scores, level_table(m, u, reset=implausible)


def _fit(
    fitted_on: FeatureStack,
    evidence: Evidence,
    log_u: dict[str, np.ndarray],
    levels: dict[str, np.ndarray],
    pair_space: int,
    held_log_m: dict[str, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], float]:
    """EM over the distinct patterns of the unlabelled pairs, with the labelled pairs'
    posterior clamped to their verdict: m-probabilities and the log prior odds of a match
    (only the latter when `held_log_m` gives the former)."""
    patterns, counts = _unlabelled_patterns(fitted_on, evidence.rows, levels)
    labelled = _row_positions(fitted_on, evidence.rows, levels)
    log_m = held_log_m or {label: _initial_log_m(len(levels[label])) for label in fitted_on.columns}
    share = min(INITIAL_DUPLICATE_SHARE * np.sqrt(2 * pair_space) / pair_space, 0.5)
    labelled_matches = float(evidence.verdicts.sum())
    for _ in range(MAX_ITERATIONS):
        log_prior = np.log(share) - np.log1p(-share)
        ratio = _positions_log_ratio(patterns, log_m, log_u)
        weights = counts / (1 + np.exp(-(log_prior + ratio)))
        new_share = min(max((weights.sum() + labelled_matches) / pair_space, 1e-300), 0.5)
        if held_log_m is None:
            log_m = {
                label: _log_shares(
                    np.concatenate([patterns[label], labelled[label]]),
                    len(levels[label]),
                    np.concatenate([weights, evidence.verdicts]),
                )
                for label in fitted_on.columns
            }
        converged = abs(new_share - share) <= TOLERANCE * share
        share = new_share
        if converged:
            break
    return log_m, float(np.log(share) - np.log1p(-share))


def _session_log_m(
    fitted_on: FeatureStack,
    evidence: Evidence,
    log_u: dict[str, np.ndarray],
    levels: dict[str, np.ndarray],
    pair_space: int,
    overall: tuple[dict[str, np.ndarray], float],
    sessions: tuple[Session, ...],
) -> dict[str, np.ndarray]:
    """Each comparison's m-probabilities averaged over the sessions that fit it (the
    `overall` fit's, of every candidate, where none does).

    A session keeps the table's prior (`pair_space`), so a pass's many related pairs (a
    household's, on a phone pass) cannot become its match class. But with that prior a
    session whose own comparisons carry too little evidence finds only the easiest of its
    pass's matches, and its m would say that matches hardly ever disagree: a session that
    finds fewer than `MIN_SESSION_SHARE` of the matches the overall fit expects among its
    pairs is left out (on the demo users every pass is, and the overall fit stands)."""
    overall_log_m, overall_log_prior = overall
    fitted: dict[str, list[np.ndarray]] = {label: [] for label in fitted_on.columns}
    for session in sessions:
        # One comparison alone cannot tell its m from the share of matches.
        if len(session.rows) < MIN_SESSION_PAIRS or len(session.labels) < 2:
            continue
        labels = list(session.labels)
        session_pairs = fitted_on.values(session.rows)
        session_m, log_prior = _fit(
            FeatureStack((cast(pd.DataFrame, session_pairs[labels]),)),
            _session_evidence(evidence, session.rows),
            {label: log_u[label] for label in labels},
            {label: levels[label] for label in labels},
            pair_space,
        )
        found = pair_space / (1 + np.exp(-log_prior))
        overall_posterior = 1 / (
            1
            + np.exp(-(overall_log_prior + _log_ratio(session_pairs, overall_log_m, log_u, levels)))
        )
        if found < MIN_SESSION_SHARE * overall_posterior.sum():
            continue
        for label in labels:
            fitted[label].append(np.exp(session_m[label]))
    return {
        label: np.log(np.mean(shares, axis=0)) if shares else overall_log_m[label]
        for label, shares in fitted.items()
    }


def _dependent_log_odds(
    features: pd.DataFrame,
    fitted_on: FeatureStack,
    evidence: Evidence,
    model: tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]],
    log_prior: float,
    pair_space: int,
    dependent: tuple[str, ...],
) -> np.ndarray:
    """Log odds of a match of each pair of `features`, the `dependent` comparisons' m fitted
    per pattern of their levels on the distinct patterns of `fitted_on` (the labelled pairs
    one by one, with their verdicts), the other comparisons' held from `model` (log m, log
    u and levels of every comparison)."""
    log_m, log_u, levels = model
    patterns, counts = _unlabelled_patterns(fitted_on, evidence.rows, levels)
    labelled = _row_positions(fitted_on, evidence.rows, levels)
    fitted = {
        label: np.concatenate([patterns[label], labelled[label]]) for label in fitted_on.columns
    }
    scored = {label: _positions(_values(features, label), levels[label]) for label in features}
    others = [label for label in features if label not in dependent]
    fit, joint_log_prior = fit_joint(
        _group_patterns(fitted, dependent, levels),
        np.concatenate([counts, np.ones(len(evidence.rows))]),
        np.concatenate([np.full(len(counts), np.nan), evidence.verdicts]),
        _positions_log_ratio({label: fitted[label] for label in others}, log_m, log_u),
        _known_log_sum(fitted, dependent, log_m),
        _known_log_sum(fitted, dependent, log_u),
        log_prior,
        pair_space,
    )
    joint_log_m = fit.log_m(
        _group_patterns(scored, dependent, levels), _known_log_sum(scored, dependent, log_m)
    )
    return (
        joint_log_prior
        + _positions_log_ratio({label: scored[label] for label in others}, log_m, log_u)
        + joint_log_m
        - _known_log_sum(scored, dependent, log_u)
    )


def _group_patterns(
    positions: dict[str, np.ndarray], labels: tuple[str, ...], levels: dict[str, np.ndarray]
) -> Patterns:
    return group_patterns(
        [positions[label] for label in labels], [len(levels[label]) for label in labels]
    )


def _known_log_sum(
    positions: dict[str, np.ndarray], labels: tuple[str, ...], logs: dict[str, np.ndarray]
) -> np.ndarray:
    """Sum over `labels` of each pair's log m (or u) of its level, 0 where missing."""
    total = np.zeros(len(positions[labels[0]]))
    for label in labels:
        total += np.append(logs[label], 0.0)[positions[label]]
    return total


def _implausible(log_m: dict[str, np.ndarray], log_u: dict[str, np.ndarray]) -> list[str]:
    """The comparisons whose fitted m-probabilities no comparison of a record's own values
    can have: agreement (the top level) likelier among non-matches, or most matches
    disagreeing (the lowest level). Both mean the match class is not one entity's records."""
    return [
        label
        for label, logs in log_m.items()
        if len(logs) > 1
        and (logs[-1] < log_u[label][-1] or np.exp(logs[0]) >= DISAGREEMENT_M_WARNING)
    ]


def _session_evidence(evidence: Evidence, rows: np.ndarray) -> Evidence:
    """The verdicts on a session's pairs, at their positions among them."""
    positions = np.searchsorted(rows, evidence.rows)
    inside = (positions < len(rows)) & (rows[np.minimum(positions, len(rows) - 1)] == evidence.rows)
    return Evidence(positions[inside], evidence.verdicts[inside])


def _unlabelled_patterns(
    features: FeatureStack, labelled_rows: np.ndarray, levels: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The distinct patterns of level positions (see `_positions`) and how many unlabelled
    pairs take each."""
    codes = np.zeros(len(features), dtype=np.int64)
    bound = 1
    for label in features.columns:
        radix = len(levels[label]) + 1
        if bound * radix > MAX_CODE:
            codes = pd.factorize(codes)[0]
            bound = int(codes.max()) + 1
        # In place and by chunks: pair-length temporaries of every pair set the peak.
        for rows, values in features.column_chunks(label):
            codes[rows] *= radix
            codes[rows] += _positions(values, levels[label])
        bound *= radix
    distinct, first, counts = _distinct_codes(codes)
    np.subtract.at(counts, np.searchsorted(distinct, codes[labelled_rows]), 1)
    return _row_positions(features, first, levels), counts.astype(np.float64)


def _distinct_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What `np.unique(codes, return_index=True, return_counts=True)` gives (the sorted
    distinct codes, the first position and the count of each), by chunks: its sort copies
    the codes twice."""
    starts = range(0, max(len(codes), 1), CHUNK_ROWS)
    chunks = [
        np.unique(codes[start : start + CHUNK_ROWS], return_index=True, return_counts=True)
        for start in starts
    ]
    distinct, of_chunk = np.unique(
        np.concatenate([chunk[0] for chunk in chunks]), return_inverse=True
    )
    first = np.full(len(distinct), len(codes), dtype=np.int64)
    firsts = [start + chunk[1] for start, chunk in zip(starts, chunks, strict=True)]
    np.minimum.at(first, of_chunk, np.concatenate(firsts))
    counts = np.zeros(len(distinct), dtype=np.int64)
    np.add.at(counts, of_chunk, np.concatenate([chunk[2] for chunk in chunks]))
    return distinct, first, counts


def _row_positions(
    features: FeatureStack, rows: np.ndarray, levels: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The level positions of the pairs at `rows`, per comparison."""
    chosen = features.values(rows)
    return {label: _positions(_values(chosen, label), levels[label]) for label in features.columns}


def _values(features: pd.DataFrame, label: str) -> np.ndarray:
    return features[label].to_numpy(dtype=np.float64)


def _levels(fitted: FeatureStack, label: str, background: np.ndarray) -> np.ndarray:
    """The sorted distinct known values of a feature."""
    seen = [np.asarray(pd.unique(values)) for _, values in fitted.column_chunks(label)]
    values = np.concatenate([*seen, np.asarray(pd.unique(background))])
    return np.unique(values[~np.isnan(values)])


def _positions(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The position of each value among `levels`; a missing value gets `len(levels)`."""
    return np.searchsorted(levels, values)  # NaN sorts after every level


def _initial_log_m(level_count: int) -> np.ndarray:
    if level_count <= 1:
        return np.zeros(level_count)
    rest = (1 - INITIAL_TOP_LEVEL_M) / (level_count - 1)
    return np.log(np.append(np.full(level_count - 1, rest), INITIAL_TOP_LEVEL_M))


def _log_shares(
    positions: np.ndarray, level_count: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Log of the (weighted) share of each level among known values, with `SMOOTHING`."""
    totals = np.bincount(positions, weights=weights, minlength=level_count + 1)[:level_count]
    totals = totals + SMOOTHING
    return np.log(totals / totals.sum())


def _weights(log_m: np.ndarray, log_u: np.ndarray) -> np.ndarray:
    """log(m/u) per level position, 0 for a missing value."""
    return np.append(log_m - log_u, 0.0)


def _positions_log_ratio(
    patterns: dict[str, np.ndarray], log_m: dict[str, np.ndarray], log_u: dict[str, np.ndarray]
) -> np.ndarray:
    return cast(
        np.ndarray,
        sum(
            _weights(log_m[label], log_u[label])[positions] for label, positions in patterns.items()
        ),
    )


def _log_ratio(
    features: pd.DataFrame,
    log_m: dict[str, np.ndarray],
    log_u: dict[str, np.ndarray],
    levels: dict[str, np.ndarray],
) -> np.ndarray:
    """Sum over the features of log(m/u) of each pair's level (0 where missing), by chunks
    of pairs."""
    total = np.zeros(len(features))
    for label in features:
        weights = _weights(log_m[label], log_u[label])
        for rows, values in FeatureStack.of(features).column_chunks(label):
            total[rows] += weights[_positions(values, levels[label])]
    return total


def _probabilities(log_odds: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-log_odds)), computed in `log_odds`' own memory."""
    np.negative(log_odds, out=log_odds)
    np.exp(log_odds, out=log_odds)
    log_odds += 1
    return np.divide(1, log_odds, out=log_odds)


def _term_frequency_adjustment(
    values: pd.Series, levels: np.ndarray, log_u: np.ndarray, agreed_u: np.ndarray
) -> np.ndarray:
    """log(u of the top level) - log(u of the agreed value) for pairs at the top level with
    a known value, else 0."""
    adjustment = np.zeros(len(values))
    if not len(levels):
        return adjustment
    adjustable = (values.to_numpy() == levels[-1]) & ~np.isnan(agreed_u)
    adjustment[adjustable] = log_u[-1] - np.log(np.maximum(agreed_u[adjustable], TF_MINIMUM_U))
    return adjustment


def _typo_level_adjustment(
    values: np.ndarray,
    levels: np.ndarray,
    rarer_u: np.ndarray,
    background_values: np.ndarray,
    background_rarer_u: np.ndarray,
) -> np.ndarray:
    """For pairs at a level between the lowest and the top one with known values: the log of
    the geometric mean share of the rarer value among the random pairs at that level, less
    the log of the pair's (see the module docstring); else 0."""
    adjustment = np.zeros(len(values))
    for level in levels[1:-1]:
        seen = (background_values == level) & ~np.isnan(background_rarer_u)
        at = (values == level) & ~np.isnan(rarer_u)
        if not seen.any() or not at.any():
            continue
        typical = np.log(np.maximum(background_rarer_u[seen], TF_MINIMUM_U)).mean()
        adjustment[at] = typical - np.log(np.maximum(rarer_u[at], TF_MINIMUM_U))
    return adjustment
