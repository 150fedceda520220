"""What a fitted model says of itself: m/u per level, match rate, score histogram, warnings,
and the precision and recall it expects of itself.

Without truth, a calibrated model's scores are the match probabilities of the candidate
pairs: the expected number of true matches among the pairs kept is the sum of their scores.
So the estimated precision is the mean score of the pairs at or above the threshold, and the
estimated recall the sum of their scores over the sum of all candidate scores. Pairs that no
blocking pass proposed are assumed not to match: the recall is of the matches among the
candidates (blocking's own misses are not seen).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dataplatform.entities.spec import EntitySpec

LEVEL_COLUMNS = ["comparison", "level", "m", "u", "match_weight"]
# Bins of the score histogram over [0, 1].
SCORE_BINS = 40
MIN_EXPECTED_MATCHES = 10
# A share of "matches" disagreeing on a comparison above which the match class likely holds
# related records: fitted on every candidate of people in households, the model had 0.51 of
# its matches disagree on given name and birth date; fitted well, 0.006 and 0.0001 (email,
# which people change, 0.16; FEBRL's noisiest given names 0.28).
DISAGREEMENT_M_WARNING = 0.4


@dataclass(frozen=True)
class FitReport:
    """The fitted model's m/u-probabilities per comparison level (with the match weight
    log2(m/u); empty for the supervised model; a missing value left as NaN has no row: it
    weighs 0), the share of candidate pairs classified as
    matches, the candidate pairs per score bin, one line per implausible finding, the match
    threshold used, the estimated precision and recall (see the module docstring), and how
    many labelled pairs the run used."""

    levels: pd.DataFrame
    match_rate: float
    score_counts: np.ndarray
    warnings: tuple[str, ...]
    threshold: float
    estimated_precision: float
    estimated_recall: float
    labelled_pairs: int = 0

    def levels_markdown(self) -> str:
        """The m/u table as markdown, for Dagster metadata."""
        lines = ["| comparison | level | m | u | match weight |", "|---|---|---|---|---|"]
        levels = self.levels
        fitted = levels["fitted"].tolist() if "fitted" in levels else [True] * len(levels)
        lines += [
            f"| {label}{'' if was_fitted else ' (prior m)'} | {level:g} | {m:.4f} | {u:.4f}"
            f" | {weight:+.2f} |"
            for (label, level, m, u, weight), was_fitted in zip(
                levels[LEVEL_COLUMNS].itertuples(index=False), fitted, strict=True
            )
        ]
        return "\n".join(lines)


def level_table(
    m: dict[str, dict[float, float]],
    u: dict[str, dict[float, float]],
    reset: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per comparison level: m, u, the match weight log2(m/u), and whether the m
    was fitted (False for the comparisons in `reset`, whose m is the prior's)."""
    rows = [
        (label, float(level), m_prob, u[label].get(level, 0.0))
        for label, levels in m.items()
        for level, m_prob in sorted(levels.items())
    ]
    table = pd.DataFrame(rows, columns=pd.Index(LEVEL_COLUMNS[:-1]))
    with np.errstate(divide="ignore"):
        table["match_weight"] = np.log2(table["m"] / table["u"])
    table["fitted"] = ~table["comparison"].isin(list(reset))
    return table


def fit_report(
    spec: EntitySpec, levels: pd.DataFrame, scores: pd.Series, labelled_pairs: int = 0
) -> FitReport:
    """The report of a model that gave the candidate pairs `scores`, with the threshold
    chosen by `spec.threshold_rule`."""
    values = scores.to_numpy()
    threshold = (
        best_estimated_f1_threshold(values)
        if spec.threshold_rule == "best_estimated_f1"
        else spec.match_threshold
    )
    precision, recall = estimated_quality(values, threshold)
    match_rate = float((values >= threshold).mean()) if len(values) else 0.0
    counts, _ = np.histogram(values, bins=SCORE_BINS, range=(0.0, 1.0))
    warnings = [*_level_warnings(levels), *_rate_warnings(spec, match_rate, len(values))]
    return FitReport(
        levels, match_rate, counts, tuple(warnings), threshold, precision, recall, labelled_pairs
    )


def estimated_quality(scores: np.ndarray, threshold: float) -> tuple[float, float]:
    """Estimated precision and recall of keeping the pairs scored at or above `threshold`
    (1.0 when there is nothing to keep or to find)."""
    kept = scores[scores >= threshold]
    total = float(scores.sum())
    precision = float(kept.mean()) if len(kept) else 1.0
    recall = float(kept.sum()) / total if total > 0 else 1.0
    return precision, recall


def best_estimated_f1_threshold(scores: np.ndarray) -> float:
    """The candidate score that, as the threshold, maximises the estimated F1."""
    if not len(scores) or scores.sum() <= 0:
        return 1.0
    descending = np.sort(scores)[::-1]
    expected_hits = np.cumsum(descending)
    kept = np.arange(1, len(descending) + 1)
    # F1 = 2PR / (P + R) with P = hits / kept and R = hits / total: 2 hits / (kept + total).
    f1 = 2 * expected_hits / (kept + expected_hits[-1])
    # A threshold keeps every pair of its score: only the last of equal scores is a choice.
    last_of_ties = np.append(descending[1:] != descending[:-1], True)
    return float(descending[np.argmax(np.where(last_of_ties, f1, -1.0))])


def _level_warnings(levels: pd.DataFrame) -> list[str]:
    """A comparison whose agreement (top) level is likelier among non-matches, or that
    takes one level on every pair, cannot be telling matches apart; one on which many
    "matches" disagree suggests the match class is not one entity's records."""
    warnings = []
    for label, rows in levels.groupby("comparison", sort=False):
        top = rows.loc[rows["level"].idxmax()]
        if not bool(rows["fitted"].all()):
            warnings.append(
                f"comparison {label!r}: the fit made agreement likelier among non-matches, or"
                " had most matches disagree, so its m-probabilities are the prior's (agreement"
                f" {top['m']:.2f}) and the share of matches was refitted: the table may hold"
                " few or no duplicates, and its closest pairs be related records (a household,"
                " twins): review the pairs near the threshold"
            )
        elif len(rows) == 1:
            warnings.append(
                f"comparison {label!r} takes one level ({top['level']:g}) on every pair:"
                " it cannot tell matches from non-matches"
            )
        elif top["m"] < top["u"]:
            warnings.append(
                f"comparison {label!r}: agreement (level {top['level']:g}) is likelier among"
                f" non-matches (u={top['u']:.3f}) than matches (m={top['m']:.3f}):"
                " the fit may have taken the wrong class for matches"
            )
        elif (low := rows.loc[rows["level"].idxmin()])["m"] >= DISAGREEMENT_M_WARNING:
            warnings.append(
                f"comparison {label!r}: {low['m']:.0%} of the matches disagree (level"
                f" {low['level']:g}): the match class may hold related records that agree on"
                " the other comparisons (a household, twins); read the m table and review"
                " such pairs"
            )
    return warnings


def _rate_warnings(spec: EntitySpec, match_rate: float, candidates: int) -> list[str]:
    """A rate above the band; or below it when the band's lower end would mean at least
    `MIN_EXPECTED_MATCHES` matches (a small day may rightly have none)."""
    low, high = spec.match_rate_band
    too_low = match_rate < low and low * candidates >= MIN_EXPECTED_MATCHES
    if not (match_rate > high or too_low):
        return []
    return [
        f"match rate {match_rate:.4f} of {candidates} candidate pairs is outside the plausible"
        f" band [{low:g}, {high:g}]"
    ]
