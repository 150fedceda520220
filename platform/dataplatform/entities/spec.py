"""How to resolve the entities of one table: blocking passes, comparisons and classifier."""

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

STRING_METHODS = ("jarowinkler", "levenshtein")
METHODS = (*STRING_METHODS, "exact", "date", "date_parts", "numeric")
NUMERIC_SHAPES = ("step", "linear", "exp", "gauss", "squared")
CLASSIFIERS = ("ecm", "fellegi_sunter", "logistic")


@dataclass(frozen=True)
class Comparison:
    """One feature of a record pair, with recordlinkage's `Compare` semantics.

    `threshold` binarises the similarity like recordlinkage's `threshold=` argument
    (>= threshold -> 1, else 0); `levels` instead rounds it down to the highest level it
    reaches (0 below all), for multi-level models such as "fellegi_sunter"; missing values
    become `missing_value` after either.
    `shape`, `offset`, `scale` and `origin` parametrise the numeric decay functions.
    """

    column: str
    method: str
    label: str
    missing_value: float = 0.0
    threshold: float | None = None
    levels: tuple[float, ...] = ()
    shape: str = "linear"
    offset: float = 0.0
    scale: float = 1.0
    origin: float = 0.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown comparison method {self.method!r}; expected {METHODS}")
        if self.threshold is not None and self.levels:
            raise ValueError("give a comparison a threshold or levels, not both")
        if self.method == "numeric" and self.shape not in NUMERIC_SHAPES:
            raise ValueError(f"unknown numeric shape {self.shape!r}; expected {NUMERIC_SHAPES}")

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
    `match_rate_band` is the plausible share of candidate pairs that match: a fit outside
    it is reported as implausible (tight blocking on FEBRL gives 0.77 to 0.95, the demo
    users 0.02 to 0.12; every candidate a match means the features tell nothing).
    """

    name: str
    id_column: str
    blocking: tuple[tuple[str, ...], ...]
    comparisons: tuple[Comparison, ...]
    sorted_neighbourhood: tuple[str, ...] = ()
    sorted_neighbourhood_window: int = 3
    classifier: str = "ecm"
    match_threshold: float = 0.5
    max_cluster_size: int = 50
    fit_sample_size: int = 5000
    recency_column: str | None = None
    dates: tuple[tuple[str, str | None], ...] = ()
    match_rate_band: tuple[float, float] = (0.001, 0.99)
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None

    def __post_init__(self) -> None:
        if self.classifier not in CLASSIFIERS:
            raise ValueError(f"unknown classifier {self.classifier!r}; expected {CLASSIFIERS}")
        if not self.blocking and not self.sorted_neighbourhood:
            raise ValueError("an EntitySpec needs a blocking or sorted-neighbourhood pass")
        labels = [comparison.label for comparison in self.comparisons]
        if len(set(labels)) != len(labels):
            raise ValueError(f"comparison labels must be unique, got {labels}")
        not_binary = [
            comparison.label for comparison in self.comparisons if not comparison.is_binary()
        ]
        if self.classifier == "ecm" and not_binary:
            raise ValueError(
                f"spec {self.name!r}: the ECM classifier needs binary features, but comparisons"
                f" {not_binary} are not 0/1: give each a threshold (and a missing_value of 0"
                " or 1), or use the fellegi_sunter classifier"
            )
