"""The m-probabilities of a group of dependent comparisons, fitted over their combinations.

Fellegi-Sunter multiplies the m-probabilities of the comparisons, as if a match's errors
fell on each column independently. When they do not (RLdata10000's copies carry one error
each, so among matches a name that agrees makes a date part that disagrees likelier), a
spec declares the comparisons dependent (`EntitySpec.dependent_comparisons`) and the match
class gets one m-probability per combination of their levels (a pattern), estimated by
expectation-maximisation with the u-probabilities still those of independent comparisons
(random pairs rarely share a value, whatever the other columns do). Rare patterns have few
matches to count, so each pattern's m is shrunk toward the independent fit's product: that
product, as a share among the fitted patterns, counts as `PRIOR_SHARE` of the matches
(Dirichlet pseudo-counts). A missing value stays no evidence: the m of a pattern is
conditional on which of the comparisons are known (its mask), as the product of the
independent m over the known ones is.
"""

from dataclasses import dataclass

import numpy as np

# Weight of the independent fit in each pattern's m, as a share of the fitted matches.
# Measured on RLdata10000's candidates (pairwise F1 before clustering, the five comparisons
# that are never missing as the group): 0.9791 at 0.02 and 0.05, 0.9791 at 0.1, 0.9786 at
# 0.2, 0.978 at 0.5; the independent model gives 0.9709.
PRIOR_SHARE = 0.1
MAX_ITERATIONS = 500
TOLERANCE = 1e-8


@dataclass(frozen=True)
class Patterns:
    """Level positions of a group's comparisons (a missing value at `len(levels)`) turned
    into one code per pair, and each pair's mask of missing comparisons."""

    codes: np.ndarray
    masks: np.ndarray


@dataclass(frozen=True)
class JointFit:
    """The fitted group: the matches counted per pattern and per mask (sorted codes with
    their expected matches), the independent m summed over each mask's fitted patterns,
    and the prior's weight."""

    pattern_codes: np.ndarray
    pattern_matches: np.ndarray
    mask_codes: np.ndarray
    mask_matches: np.ndarray
    mask_independent_m: np.ndarray
    prior_weight: float

    def log_m(self, patterns: Patterns, independent_log_m: np.ndarray) -> np.ndarray:
        """log m of each pair's pattern: its matches plus the prior's pseudo-matches, over
        the matches of its mask plus the prior's weight."""
        matches = _lookup(self.pattern_codes, self.pattern_matches, patterns.codes)
        mask_matches = _lookup(self.mask_codes, self.mask_matches, patterns.masks)
        # A mask never fitted keeps the independent m as it is.
        fitted_m = _lookup(self.mask_codes, self.mask_independent_m, patterns.masks)
        prior_share = np.exp(independent_log_m) / np.where(fitted_m > 0, fitted_m, 1.0)
        return np.log(
            (matches + self.prior_weight * prior_share) / (mask_matches + self.prior_weight)
        )


def group_patterns(positions: list[np.ndarray], level_counts: list[int]) -> Patterns:
    """Each pair's pattern code and mask over the group's comparisons (same order)."""
    codes = np.zeros(len(positions[0]), dtype=np.int64)
    masks = np.zeros(len(positions[0]), dtype=np.int64)
    for bit, (comparison_positions, count) in enumerate(zip(positions, level_counts, strict=True)):
        codes = codes * (count + 1) + comparison_positions
        masks |= (comparison_positions == count).astype(np.int64) << bit
    return Patterns(codes, masks)


def fit_joint(
    patterns: Patterns,
    counts: np.ndarray,
    verdicts: np.ndarray,
    other_log_ratio: np.ndarray,
    independent_log_m: np.ndarray,
    group_log_u: np.ndarray,
    log_prior: float,
    pair_space: int,
) -> tuple[JointFit, float]:
    """Expectation-maximisation of the group's m per pattern and of the log prior odds of a
    match, over distinct fitted patterns: `counts` pairs take each, `verdicts` is 1 or 0
    where they are labelled pairs (whose verdict holds) and NaN elsewhere,
    `other_log_ratio` is the evidence of the other comparisons, `independent_log_m` the
    independent fit's log m of the group's levels and `group_log_u` their log u."""
    share = 1 / (1 + np.exp(-log_prior))
    mask_codes, mask_independent_m = _mask_independent_m(patterns, independent_log_m)

    def counted(matches: np.ndarray) -> JointFit:
        pattern_codes, pattern_inverse = np.unique(patterns.codes, return_inverse=True)
        mask_inverse = np.searchsorted(mask_codes, patterns.masks)
        return JointFit(
            pattern_codes,
            np.bincount(pattern_inverse, weights=matches, minlength=len(pattern_codes)),
            mask_codes,
            np.bincount(mask_inverse, weights=matches, minlength=len(mask_codes)),
            mask_independent_m,
            share * pair_space * PRIOR_SHARE,
        )

    fit = counted(np.zeros(len(counts)))
    for _ in range(MAX_ITERATIONS):
        log_odds = (
            np.log(share)
            - np.log1p(-share)
            + other_log_ratio
            + fit.log_m(patterns, independent_log_m)
            - group_log_u
        )
        matches = np.where(np.isnan(verdicts), counts / (1 + np.exp(-log_odds)), verdicts)
        new_share = min(max(matches.sum() / pair_space, 1e-300), 0.5)
        converged = abs(new_share - share) <= TOLERANCE * share
        share = new_share
        fit = counted(matches)
        if converged:
            break
    return fit, float(np.log(share) - np.log1p(-share))


def _mask_independent_m(
    patterns: Patterns, independent_log_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The sorted masks of the fitted patterns, and for each the sum of the independent m
    over its distinct patterns."""
    _, first = np.unique(patterns.codes, return_index=True)
    mask_codes, mask_inverse = np.unique(patterns.masks[first], return_inverse=True)
    return mask_codes, np.bincount(mask_inverse, weights=np.exp(independent_log_m[first]))


def _lookup(sorted_codes: np.ndarray, values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The value of each code among `sorted_codes`, 0 for a code not among them."""
    positions = np.minimum(np.searchsorted(sorted_codes, codes), len(sorted_codes) - 1)
    return np.where(sorted_codes[positions] == codes, values[positions], 0.0)
