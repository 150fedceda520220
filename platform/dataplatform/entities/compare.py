"""Vectorised comparison features for record pairs, with recordlinkage's `Compare` semantics.

recordlinkage computes string similarities with one Python call per pair; here rapidfuzz's
`process.cpdist` computes them for all pairs at once. The values match recordlinkage's
(jellyfish-backed) ones, including its treatment of missing values: a pair with a missing
side gets the comparison's `missing_value`, and so do two empty strings under Levenshtein
(recordlinkage divides by a zero length there and fills the NaN).

Beyond recordlinkage: a comparison over several columns averages the similarities of the
columns present on both sides; a swap column lets a value match its swapped place (a given
name entered as the surname); "overlap" compares list-valued columns as sets; and a
`missing_value` of None leaves missing similarities NaN (no evidence).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler, Levenshtein

from dataplatform.entities.dates import parse_dates
from dataplatform.entities.spec import Comparison, EntitySpec

SWAPPED_MONTHS = ((6, 7), (7, 6), (9, 10), (10, 9))
PARTIAL_DATE_AGREEMENT = 0.5
# Pairs compared at once: a comparison makes several temporary arrays of this length (at
# 4,000,000 a date comparison's set the peak of a 1,000,000-listens day's user increment).
CHUNK_PAIRS = 1_000_000


def compare_pairs(
    spec: EntitySpec,
    pairs: pd.MultiIndex,
    left: pd.DataFrame,
    right: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One float column per comparison label for each pair (index = pairs).

    Level 0 of `pairs` indexes `left`, level 1 indexes `right` (or `left` again when
    deduplicating). Both frames are indexed by record id.
    """
    right = left if right is None else right
    pairs = pairs.remove_unused_levels()
    # Values are converted once per record in a pair (a level entry), then spread over the
    # pairs by the level codes.
    left_records = _record_positions(left, cast(pd.Index, pairs.levels[0]))
    right_records = _record_positions(right, cast(pd.Index, pairs.levels[1]))
    left_codes, right_codes = cast(np.ndarray, pairs.codes[0]), cast(np.ndarray, pairs.codes[1])
    # Filled in place: building the frame from separate columns would copy them all, which
    # at tens of millions of pairs is gigabytes at the peak.
    block = np.empty((len(spec.comparisons), len(pairs)))
    for row, comparison in enumerate(spec.comparisons):
        left_values = _record_values(comparison, left, left_records)
        right_values = _record_values(comparison, right, right_records)
        for start in range(0, len(pairs), CHUNK_PAIRS):
            chunk = slice(start, start + CHUNK_PAIRS)
            block[row, chunk] = compare_column(
                comparison,
                _sides(left_values, left_codes[chunk]),
                _sides(right_values, right_codes[chunk]),
            )
    labels = [comparison.label for comparison in spec.comparisons]
    return pd.DataFrame(block.T, index=pairs, columns=pd.Index(labels), copy=False)


def _record_values(
    comparison: Comparison, records: pd.DataFrame, positions: np.ndarray
) -> dict[str, np.ndarray | pd.Categorical]:
    """The values of each column the comparison reads, converted once per record."""
    return {
        column: _converted(comparison, cast(pd.Series, records[column].iloc[positions]))
        for column in comparison.columns
    }


def _converted(comparison: Comparison, values: pd.Series) -> np.ndarray | pd.Categorical:
    if comparison.method == "overlap":
        return _as_sets(values, comparison.separator)
    return RECORD_VALUES[comparison.method](values)


def _record_positions(records: pd.DataFrame, ids: pd.Index) -> np.ndarray:
    positions = records.index.get_indexer(ids)
    if (positions < 0).any():
        unknown = ids[positions < 0][:5].tolist()
        raise KeyError(f"candidate pairs name records that are not among the records: {unknown}")
    return positions


@dataclass(frozen=True)
class Side:
    """One side of the pairs: values per record, and for each pair the position of its record."""

    values: np.ndarray | pd.Categorical
    records: np.ndarray

    def per_pair(self) -> np.ndarray:
        """The value of each pair's record; for array values (text is read by its codes)."""
        return cast(np.ndarray, self.values)[self.records]

    def missing(self) -> np.ndarray:
        return pd.isna(self.values)[self.records]


def _sides(values: dict[str, np.ndarray | pd.Categorical], records: np.ndarray) -> dict[str, Side]:
    return {column: Side(column_values, records) for column, column_values in values.items()}


def compare_column(
    comparison: Comparison, left: Mapping[str, Side], right: Mapping[str, Side]
) -> np.ndarray:
    """The feature of aligned records (sides by column): the similarity, thresholded or
    rounded to levels, with missing values filled (kept NaN when `missing_value` is None)."""
    similarity = _mean_similarity(comparison, left, right)
    if comparison.threshold is not None:
        known = ~np.isnan(similarity)
        similarity[known] = (similarity[known] >= comparison.threshold).astype(np.float64)
    if comparison.levels:
        similarity = _round_down_to_levels(similarity, comparison.levels)
    if comparison.missing_value is not None:
        similarity[np.isnan(similarity)] = comparison.missing_value
    return similarity


def _mean_similarity(
    comparison: Comparison, left: Mapping[str, Side], right: Mapping[str, Side]
) -> np.ndarray:
    """Over several columns, the mean similarity of those present on both sides (NaN where
    none is)."""
    if isinstance(comparison.column, str):
        return _swappable_similarity(comparison, comparison.column, left, right)
    total = np.zeros(len(next(iter(left.values())).records))
    present = np.zeros(len(total), dtype=np.int64)
    for column in comparison.column:
        similarity = _similarity(comparison, left[column], right[column])
        known = ~np.isnan(similarity)
        total[known] += similarity[known]
        present += known
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / present


def _swappable_similarity(
    comparison: Comparison, column: str, left: Mapping[str, Side], right: Mapping[str, Side]
) -> np.ndarray:
    """The straight similarity, or the crossed one where higher: the lower of the column
    against the other side's swap column and the reverse, so both values must have swapped."""
    straight = _similarity(comparison, left[column], right[column])
    swap = comparison.swap_with
    if swap is None:
        return straight
    crossed = np.minimum(
        _similarity(comparison, left[column], right[swap]),
        _similarity(comparison, left[swap], right[column]),
    )
    # fmax ignores a missing crossed similarity; a missing straight one implies it.
    return np.fmax(straight, crossed)


def _similarity(comparison: Comparison, left: Side, right: Side) -> np.ndarray:
    """The method's similarity of aligned values, NaN where either is missing."""
    similarity = SIMILARITIES[comparison.method](comparison, left, right)
    similarity[left.missing() | right.missing()] = np.nan
    return similarity


def _round_down_to_levels(similarity: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """Each similarity replaced by the highest level it reaches, 0 below all (NaN kept)."""
    ordered = np.sort(np.asarray(levels, dtype=np.float64))
    reached = np.searchsorted(ordered, similarity, side="right")
    rounded = np.where(reached > 0, ordered[np.maximum(reached - 1, 0)], 0.0)
    return np.where(np.isnan(similarity), np.nan, rounded)


def string_similarity(comparison: Comparison, left: Side, right: Side) -> np.ndarray:
    """Normalised Jaro-Winkler or Levenshtein similarity (missing values are masked later)."""
    left_codes, left_texts = _text_codes(left)
    right_codes, right_texts = _text_codes(right)
    # Blocked pairs repeat value combinations a lot: score each distinct combination once.
    combined = left_codes.astype(np.int64) * (len(right_texts) + 1) + right_codes
    combination, distinct = pd.factorize(combined)
    left_distinct = left_texts[distinct // (len(right_texts) + 1)]
    right_distinct = right_texts[distinct % (len(right_texts) + 1)]
    scorer = JaroWinkler if comparison.method == "jarowinkler" else Levenshtein
    scores = process.cpdist(
        left_distinct,
        right_distinct,
        scorer=scorer.normalized_similarity,
        dtype=np.float64,
        workers=-1,
    )
    both_empty = (left_distinct == "") & (right_distinct == "")
    # jellyfish scores two empty strings 0 with Jaro-Winkler, NaN (0/0) with Levenshtein.
    scores[both_empty] = 0.0 if comparison.method == "jarowinkler" else np.nan
    return scores[combination]


def exact_similarity(_comparison: Comparison, left: Side, right: Side) -> np.ndarray:
    """1 where the values are equal, 0 otherwise."""
    return (left.per_pair() == right.per_pair()).astype(np.float64)


def date_similarity(_comparison: Comparison, left: Side, right: Side) -> np.ndarray:
    """1 for equal dates, 0.5 for swapped day/month or commonly confused months, else 0."""
    left_dates, right_dates = left.per_pair(), right.per_pair()
    (left_year, left_month, left_day), (right_year, right_month, right_day) = (
        _date_parts(left_dates),
        _date_parts(right_dates),
    )
    similarity = (left_dates == right_dates).astype(np.float64)
    swapped_day_month = (left_month == right_day) & (left_day == right_month)
    confused_month = np.zeros(len(left_dates), dtype=bool)
    for left_confused, right_confused in SWAPPED_MONTHS:
        confused_month |= (left_month == left_confused) & (right_month == right_confused)
    confused_month &= left_day == right_day
    partial = (left_year == right_year) & (swapped_day_month | confused_month) & (similarity != 1)
    similarity[partial] = PARTIAL_DATE_AGREEMENT
    return similarity


def date_parts_similarity(_comparison: Comparison, left: Side, right: Side) -> np.ndarray:
    """1 for equal dates, 0.5 when one of year, month and day differs or day and month are
    swapped (a misremembered date), else 0."""
    left_dates, right_dates = left.per_pair(), right.per_pair()
    left_parts, right_parts = _date_parts(left_dates), _date_parts(right_dates)
    agreeing = sum((a == b).astype(np.int64) for a, b in zip(left_parts, right_parts, strict=True))
    (left_year, left_month, left_day), (_, right_month, right_day) = left_parts, right_parts
    swapped = (left_year == right_parts[0]) & (left_month == right_day) & (left_day == right_month)
    similarity = np.where(agreeing == 2, PARTIAL_DATE_AGREEMENT, 0.0)
    similarity[swapped & (agreeing < 3)] = PARTIAL_DATE_AGREEMENT
    similarity[left_dates == right_dates] = 1.0
    return similarity


def numeric_similarity(comparison: Comparison, left: Side, right: Side) -> np.ndarray:
    """recordlinkage's numeric decay functions of the distance right - left."""
    distance = right.per_pair() - left.per_pair()
    offset, scale = comparison.offset, comparison.scale
    if comparison.shape == "step":
        with np.errstate(invalid="ignore"):
            return (np.abs(distance - comparison.origin) <= offset).astype(np.float64)
    beyond = np.clip(np.abs(distance - comparison.origin), offset, None) - offset
    return DECAYS[comparison.shape](beyond, scale)


def overlap_similarity(_comparison: Comparison, left: Side, right: Side) -> np.ndarray:
    """Jaccard similarity of the sets (missing ones are masked later)."""
    left_codes, left_sets = _set_codes(left)
    right_codes, right_sets = _set_codes(right)
    # As for text: each distinct combination of sets is scored once.
    width = len(right_sets)
    combination, distinct = pd.factorize(left_codes * width + right_codes)
    scores = np.fromiter(
        (
            _jaccard(left_sets[code // width], right_sets[code % width])
            for code in distinct.tolist()
        ),
        dtype=np.float64,
        count=len(distinct),
    )
    return scores[combination]


def _jaccard(left: frozenset, right: frozenset) -> float:
    union = len(left | right)
    return len(left & right) / union if union else np.nan


def _set_codes(side: Side) -> tuple[np.ndarray, np.ndarray]:
    """For each pair the code of its set, and the distinct sets (an empty one for missing)."""
    codes, distinct = pd.factorize(cast(np.ndarray, side.values))
    sets = np.empty(len(distinct) + 1, dtype=object)
    sets[:-1], sets[-1] = distinct, frozenset()
    codes = codes.astype(np.int64)
    codes[codes < 0] = len(sets) - 1
    return codes[side.records], sets


DECAYS = {
    "linear": lambda beyond, scale: 1 - np.clip(beyond, 0, 2 * scale) / (2 * scale),
    "squared": lambda beyond, scale: 1 - (np.clip(beyond, 0, np.sqrt(2) * scale) / scale) ** 2 / 2,
    "exp": lambda beyond, scale: 2 ** (-beyond / scale),
    "gauss": lambda beyond, scale: 2 ** (-((beyond / scale) ** 2)),
}

SIMILARITIES = {
    "jarowinkler": string_similarity,
    "levenshtein": string_similarity,
    "exact": exact_similarity,
    "date": date_similarity,
    "date_parts": date_parts_similarity,
    "numeric": numeric_similarity,
    "overlap": overlap_similarity,
}


def _as_text(values: pd.Series) -> pd.Categorical:
    """Python strings (rapidfuzz reads them without conversion), missing ones as NaN; coded
    once here rather than for each chunk of pairs."""
    text = values.astype(object).to_numpy(copy=True)
    missing = pd.isna(text)
    text[missing] = None
    if pd.api.types.infer_dtype(text, skipna=True) not in ("string", "empty"):
        text[~missing] = [str(value) for value in text[~missing]]
    codes, texts = pd.factorize(text)  # unsorted: sorting the texts would only cost time
    return pd.Categorical.from_codes(codes, categories=texts)


def _text_codes(side: Side) -> tuple[np.ndarray, np.ndarray]:
    """For each pair the code of its text, and the distinct texts ("" for missing)."""
    text = cast(pd.Categorical, side.values)  # see `_as_text`
    texts = np.append(np.asarray(text.categories, dtype=object), "")
    codes = text.codes.astype(np.int64)
    codes[codes < 0] = len(texts) - 1
    return codes[side.records], texts


def _as_dates(values: pd.Series) -> np.ndarray:
    return parse_dates(values).to_numpy(dtype="datetime64[ns]")


def _as_numbers(values: pd.Series) -> np.ndarray:
    return cast(pd.Series, pd.to_numeric(values, errors="coerce")).to_numpy(dtype=np.float64)


def _as_objects(values: pd.Series) -> np.ndarray:
    return cast(pd.Series, values.astype(object).where(values.notna(), None)).to_numpy()


def _as_sets(values: pd.Series, separator: str) -> np.ndarray:
    """Each value as a frozenset of its elements (text split on `separator`, elements
    stripped, empty and missing ones dropped); None for a missing or empty value."""
    sets = np.empty(len(values), dtype=object)
    sets[:] = [_as_set(value, separator) for value in values.tolist()]
    return sets


def _as_set(value: object, separator: str) -> frozenset | None:
    if isinstance(value, str):
        elements = value.split(separator)
    elif isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Series):
        elements = list(value)
    elif pd.isna(cast(float, value)):
        return None
    else:
        elements = [value]
    kept = frozenset(_element(element) for element in elements) - {""}
    return kept or None


def _element(element: object) -> object:
    """An element stripped if text; "" (dropped) if missing."""
    if isinstance(element, str):
        return element.strip()
    return "" if pd.isna(cast(float, element)) else element


def _date_parts(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1-12) and day (1-31) of each date (meaningless where the date is NaT)."""
    months = dates.astype("datetime64[M]")
    year = dates.astype("datetime64[Y]").astype(np.int64)
    month = months.astype(np.int64) % 12 + 1
    day = (dates.astype("datetime64[D]") - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


RECORD_VALUES = {
    "jarowinkler": _as_text,
    "levenshtein": _as_text,
    "exact": _as_objects,
    "date": _as_dates,
    "date_parts": _as_dates,
    "numeric": _as_numbers,
}
