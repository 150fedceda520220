"""What a fitted model says of itself: m/u per level, match rate, score histogram, warnings."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dataplatform.entities.spec import EntitySpec

LEVEL_COLUMNS = ["comparison", "level", "m", "u", "match_weight"]
# Bins of the score histogram over [0, 1].
SCORE_BINS = 40
MIN_EXPECTED_MATCHES = 10


@dataclass(frozen=True)
class FitReport:
    """The fitted model's m/u-probabilities per comparison level (with the match weight
    log2(m/u); empty for the supervised model), the share of candidate pairs classified as
    matches, the candidate pairs per score bin, and one line per implausible finding."""

    levels: pd.DataFrame
    match_rate: float
    score_counts: np.ndarray
    warnings: tuple[str, ...]

    def levels_markdown(self) -> str:
        """The m/u table as markdown, for Dagster metadata."""
        lines = ["| comparison | level | m | u | match weight |", "|---|---|---|---|---|"]
        lines += [
            f"| {label} | {level:g} | {m:.4f} | {u:.4f} | {weight:+.2f} |"
            for label, level, m, u, weight in self.levels[LEVEL_COLUMNS].itertuples(index=False)
        ]
        return "\n".join(lines)


def level_table(m: dict[str, dict[float, float]], u: dict[str, dict[float, float]]) -> pd.DataFrame:
    """One row per comparison level: m, u and the match weight log2(m/u)."""
    rows = [
        (label, float(level), m_prob, u[label].get(level, 0.0))
        for label, levels in m.items()
        for level, m_prob in sorted(levels.items())
    ]
    table = pd.DataFrame(rows, columns=pd.Index(LEVEL_COLUMNS[:-1]))
    with np.errstate(divide="ignore"):
        table["match_weight"] = np.log2(table["m"] / table["u"])
    return table


def fit_report(spec: EntitySpec, levels: pd.DataFrame, scores: pd.Series) -> FitReport:
    """The report of a model that gave the candidate pairs `scores`."""
    match_rate = float((scores.to_numpy() >= spec.match_threshold).mean()) if len(scores) else 0.0
    counts, _ = np.histogram(scores.to_numpy(), bins=SCORE_BINS, range=(0.0, 1.0))
    warnings = [*_level_warnings(levels), *_rate_warnings(spec, match_rate, len(scores))]
    return FitReport(levels, match_rate, counts, tuple(warnings))


def _level_warnings(levels: pd.DataFrame) -> list[str]:
    """A comparison whose agreement (top) level is likelier among non-matches, or that
    takes one level on every pair, cannot be telling matches apart."""
    warnings = []
    for label, rows in levels.groupby("comparison", sort=False):
        top = rows.loc[rows["level"].idxmax()]
        if len(rows) == 1:
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
