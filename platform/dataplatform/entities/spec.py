"""How to resolve the entities of one table: blocking passes, comparisons and classifier."""

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

STRING_METHODS = ("jarowinkler", "levenshtein")
METHODS = (*STRING_METHODS, "exact", "date", "date_parts", "numeric", "overlap")
NUMERIC_SHAPES = ("step", "linear", "exp", "gauss", "squared")
CLASSIFIERS = ("ecm", "fellegi_sunter", "logistic")
# "fixed": `match_threshold`; "best_estimated_f1": the score that maximises the F1 estimated
# from the fitted match probabilities (see `diagnostics.estimated_quality`).
THRESHOLD_RULES = ("fixed", "best_estimated_f1")
LABEL_COLUMNS = ("left_id", "right_id", "is_match")


@dataclass(frozen=True)
class Comparison:
    """One feature of a record pair, with recordlinkage's `Compare` semantics.

    `column` is one column, or several compared as one feature (correlated columns such as
    an address over street, city, postcode and phone): the similarity is then the mean of
    the similarities of the columns present on both sides, missing only if none is.
    `threshold` binarises the similarity like recordlinkage's `threshold=` argument
    (>= threshold -> 1, else 0); `levels` instead rounds it down to the highest level it
    reaches (0 below all), for multi-level models such as "fellegi_sunter"; missing values
    become `missing_value` after either, or stay NaN when it is None: no evidence either
    way (the "fellegi_sunter" model gives them a weight of 0).
    `swap_with` names the column a value may have been swapped with (a given name entered
    as the surname): the similarity is the larger of the straight one and the crossed one
    (the lower of this column against the other's `swap_with` and the reverse).
    `term_frequency` adjusts exact agreement (the top level: "exact", or a string method
    whose levels end at 1.0) for how common the value is (a common surname agrees by chance
    more often than a rare one; "fellegi_sunter" only), and the levels between disagreement
    and it (a typo) for how common the rarer of the two values is.
    "overlap" compares list-valued columns (lists, arrays, or text split on `separator`) by
    the Jaccard similarity of their sets.
    `shape`, `offset`, `scale` and `origin` parametrise the numeric decay functions.
    """

    column: str | tuple[str, ...]
    method: str
    label: str
    missing_value: float | None = 0.0
    threshold: float | None = None
    levels: tuple[float, ...] = ()
    swap_with: str | None = None
    term_frequency: bool = False
    separator: str = ";"
    shape: str = "linear"
    offset: float = 0.0
    scale: float = 1.0
    origin: float = 0.0

    @property
    def columns(self) -> tuple[str, ...]:
        """The compared columns (and the swap column), as a tuple."""
        own = (self.column,) if isinstance(self.column, str) else self.column
        return own if self.swap_with is None else (*own, self.swap_with)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown comparison method {self.method!r}; expected {METHODS}")
        if self.threshold is not None and self.levels:
            raise ValueError("give a comparison a threshold or levels, not both")
        if self.method == "numeric" and self.shape not in NUMERIC_SHAPES:
            raise ValueError(f"unknown numeric shape {self.shape!r}; expected {NUMERIC_SHAPES}")
        self._check_columns()

    def _check_columns(self) -> None:
        """The column forms each method supports (see the class docstring)."""
        own = (self.column,) if isinstance(self.column, str) else tuple(self.column)
        where = f"comparison {self.label!r}"
        if not own:
            raise ValueError(f"{where}: a tuple of columns needs at least one column")
        if len(set(own)) != len(own):
            raise ValueError(f"{where}: its columns {list(own)} repeat a name")
        single = isinstance(self.column, str)
        if self.swap_with is not None:
            if self.method not in (*STRING_METHODS, "exact"):
                raise ValueError(
                    f"{where}: swap_with needs a string method or exact, not {self.method!r}"
                )
            if not single or self.swap_with in own:
                raise ValueError(
                    f"{where}: swap_with needs one column (a string) other than {self.swap_with!r}"
                )
        exact_top = self.method == "exact" or (
            self.method in STRING_METHODS and self.levels[-1:] == (1.0,)
        )
        if self.term_frequency and (not exact_top or not single or self.swap_with is not None):
            raise ValueError(
                f"{where}: term_frequency needs one column (a string), not swapped, whose top"
                " level is exact equality (method 'exact', or a string method with levels"
                f" ending at 1.0); got {self.method!r} on {self.column!r},"
                f" levels={self.levels}, swap_with={self.swap_with!r}"
            )
        if self.method == "overlap" and not single:
            raise ValueError(f"{where}: overlap compares one column (a string) of lists")

    def is_binary(self) -> bool:
        """Whether every value of this feature is 0 or 1 (what the ECM classifier needs)."""
        binary_method = self.method == "exact" or (self.method, self.shape) == ("numeric", "step")
        thresholded = self.threshold is not None or (binary_method and not self.levels)
        return thresholded and self.missing_value in (0.0, 1.0)


@dataclass(frozen=True)
class EntitySpec:
    """Everything that makes one table resolvable; a new table needs only a new instance.

    `blocking` holds several passes (each a tuple of columns, derived columns included):
    the candidate pairs are the union of the pairs of every pass, so a typo or a missing
    value in one key does not hide a match found by another. `prepare` normalises records
    and derives blocking keys before indexing and comparing. `fit_sample_size` bounds the
    existing records whose pairs an incremental run adds to the classifier's training data.
    `classifier`: "ecm" (recordlinkage's ECM, binary features), "fellegi_sunter" (u from
    random pairs, multi-level features; for tables whose values repeat a lot, see
    `fellegi_sunter`) or "logistic" (supervised; needs labelled pairs).
    `dates` names the columns parsed as dates (with a `pd.to_datetime` format, None to
    infer it) before `prepare`; a column none of whose values parse fails the run.
    `threshold_rule` picks the match threshold: "fixed" (`match_threshold`) or
    "best_estimated_f1". Pairs scored within `review_band` are the uncertain ones offered
    for review (`Resolution.uncertain`).
    `match_rate_band` is the plausible share of candidate pairs that match: a fit outside
    it is reported as implausible (tight blocking on FEBRL gives 0.77 to 0.95, the demo
    users 0.02 to 0.12; every candidate a match means the features tell nothing).
    `dependent_comparisons` names comparisons whose errors are not independent among
    matches (a copy with one error: when its names agree, a date part is the likelier to
    differ); "fellegi_sunter" then fits their m-probabilities per combination of their
    levels (see `dependent`).
    """

    name: str
    id_column: str
    blocking: tuple[tuple[str, ...], ...]
    comparisons: tuple[Comparison, ...]
    sorted_neighbourhood: tuple[str, ...] = ()
    sorted_neighbourhood_window: int = 3
    classifier: str = "ecm"
    match_threshold: float = 0.5
    threshold_rule: str = "fixed"
    review_band: tuple[float, float] = (0.1, 0.9)
    max_cluster_size: int = 50
    fit_sample_size: int = 5000
    recency_column: str | None = None
    dates: tuple[tuple[str, str | None], ...] = ()
    match_rate_band: tuple[float, float] = (0.001, 0.99)
    dependent_comparisons: tuple[str, ...] = ()
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None

    def __post_init__(self) -> None:
        if self.classifier not in CLASSIFIERS:
            raise ValueError(f"unknown classifier {self.classifier!r}; expected {CLASSIFIERS}")
        if self.threshold_rule not in THRESHOLD_RULES:
            raise ValueError(
                f"unknown threshold_rule {self.threshold_rule!r}; expected {THRESHOLD_RULES}"
            )
        if not self.blocking and not self.sorted_neighbourhood:
            raise ValueError("an EntitySpec needs a blocking or sorted-neighbourhood pass")
        labels = [comparison.label for comparison in self.comparisons]
        if len(set(labels)) != len(labels):
            raise ValueError(f"comparison labels must be unique, got {labels}")
        self._check_dependent(labels)
        not_binary = [
            comparison.label for comparison in self.comparisons if not comparison.is_binary()
        ]
        if self.classifier == "ecm" and not_binary:
            raise ValueError(
                f"spec {self.name!r}: the ECM classifier needs binary features, but comparisons"
                f" {not_binary} are not 0/1: give each a threshold (and a missing_value of 0"
                " or 1; None keeps missing values NaN, which ECM cannot take), or use the"
                " fellegi_sunter classifier"
            )

    def _check_dependent(self, labels: list[str]) -> None:
        if not self.dependent_comparisons:
            return
        unknown = sorted(set(self.dependent_comparisons) - set(labels))
        if unknown or len(set(self.dependent_comparisons)) < 2:
            raise ValueError(
                f"spec {self.name!r}: dependent_comparisons needs two or more of the"
                f" comparison labels {labels}, got {list(self.dependent_comparisons)}"
            )
        if self.classifier != "fellegi_sunter":
            raise ValueError(
                f"spec {self.name!r}: dependent_comparisons are fitted by the fellegi_sunter"
                f" classifier only, not {self.classifier!r}"
            )
