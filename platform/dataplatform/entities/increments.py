"""The parts of an incremental run: its candidate pairs, training sample and random records."""

from typing import cast

import numpy as np
import pandas as pd

from dataplatform.entities.blocking import index_pairs, pass_members
from dataplatform.entities.classification import Training
from dataplatform.entities.clustering import ENTITY_ID
from dataplatform.entities.compare import compare_pairs
from dataplatform.entities.prepared_keys import block_columns, from_cache
from dataplatform.entities.spec import EntitySpec

# An increment draws its random pairs among this many existing records (and the new ones).
BACKGROUND_RECORDS = 5_000


def increment_pairs(
    spec: EntitySpec,
    changed: pd.DataFrame,
    current: pd.DataFrame,
    keys: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> pd.MultiIndex:
    """Pairs of a changed record with any current record, each unordered pair once; with
    the hashed blocking `keys` of both (see `prepared_keys.block_keys`), paired by them."""
    if keys is None or spec.sorted_neighbourhood:
        pairs = index_pairs(spec, changed, current)
    else:
        pairs = hashed_pairs(spec, (changed, keys[0]), (current, keys[1]))
    # Read through the levels (each record once), not per pair: millions of pairs.
    left_codes, right_codes = (cast(np.ndarray, codes) for codes in pairs.codes)
    left_level, right_level = (cast(pd.Index, level) for level in pairs.levels)
    changed_position = pd.Series(np.arange(len(changed)), index=changed.index)
    left_position = changed_position.reindex(left_level).to_numpy()[left_codes]
    right_changed_position = changed_position.reindex(right_level).to_numpy()[right_codes]
    itself = left_level.get_indexer(right_level)[right_codes] == left_codes
    # Two changed records meet twice, as (a, b) and (b, a): keep the first orientation.
    twice = ~np.isnan(right_changed_position) & (right_changed_position <= left_position)
    return cast(pd.MultiIndex, pairs[~itself & ~twice])


def hashed_pairs(
    spec: EntitySpec,
    left: tuple[pd.DataFrame, pd.DataFrame],
    right: tuple[pd.DataFrame, pd.DataFrame],
) -> pd.MultiIndex:
    """The pairs of `left` and `right` records (each with its hashed blocking keys) that
    agree on every key of a blocking pass, none missing: the pairs of recordlinkage's
    `Block` passes, found by looking the right side's 64-bit hashes up among the (fewer)
    left ones instead of joining on the values (an increment's half-million near records
    took that a second). A hash collision would only add a pair, which is then compared."""
    (left_records, left_keys), (right_records, right_keys) = left, right
    united = np.zeros(0, dtype=np.int64)
    # Pass by pass: every pass's codes at once, and np.unique's copy of them, set the peak.
    for name, columns in zip(block_columns(spec), spec.blocking, strict=True):
        codes = _pass_codes(
            (left_records, left_keys[name].to_numpy(dtype=np.float64)),
            (right_records, right_keys[name].to_numpy(dtype=np.float64)),
            list(columns),
        )
        united = _sorted_union(united, codes)
    return pd.MultiIndex(
        levels=[left_records.index, right_records.index],
        codes=[united // len(right_records), united % len(right_records)],
        names=["left_id", "right_id"],
        verify_integrity=False,
    )


def _sorted_union(united: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The sorted distinct values of `united` (sorted and distinct) and `codes`, as
    `np.unique` gives them, sorted in place."""
    merged = np.concatenate([united, codes])
    merged.sort()
    distinct = np.ones(len(merged), dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=distinct[1:])
    return merged[distinct]


def _pass_codes(
    left: tuple[pd.DataFrame, np.ndarray], right: tuple[pd.DataFrame, np.ndarray], keys: list[str]
) -> np.ndarray:
    """left position * len(right) + right position of the pairs whose hashes (as float64,
    as a snapshot's cache may hold them) are equal and whose `keys` are all known."""
    (left_records, left_hashes), (right_records, right_hashes) = left, right
    left_known = np.flatnonzero(left_records[keys].notna().to_numpy().all(axis=1))
    order = left_known[np.argsort(left_hashes[left_known], kind="stable")]
    ordered = left_hashes[order]
    # A hash table finds the few right records whose hash is a left one at all.
    hit = np.flatnonzero(pd.Series(right_hashes).isin(ordered).to_numpy())
    hit = hit[right_records[keys].iloc[hit].notna().to_numpy().all(axis=1)]
    starts = np.searchsorted(ordered, right_hashes[hit], side="left")
    counts = np.searchsorted(ordered, right_hashes[hit], side="right") - starts
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    left_matched = order[np.repeat(starts, counts) + offsets]
    return left_matched.astype(np.int64) * len(right_records) + np.repeat(hit, counts)


def increment_pair_space(spec: EntitySpec, kept: pd.DataFrame, changed: pd.DataFrame) -> int:
    """Pairs an increment's candidates come from: changed x current, plus the training
    sample's pairs (see `sample_features`)."""
    changed_count, kept_count = len(changed), len(kept)
    sampled = min(spec.fit_sample_size, kept_count)
    return (
        changed_count * kept_count
        + changed_count * (changed_count - 1) // 2
        + sampled * (sampled - 1) // 2
    )


def sample_features(spec: EntitySpec, kept: pd.DataFrame) -> Training:
    """Features (and blocking passes) of the candidate pairs within whole existing entities:
    the entities of records drawn in a fixed pseudo-random order, until
    `spec.fit_sample_size` records."""
    drawn = np.random.default_rng(0).permutation(len(kept))[: spec.fit_sample_size]
    entity_ids = cast(pd.Series, kept[ENTITY_ID])
    candidates = cast(np.ndarray, pd.unique(entity_ids.to_numpy()[drawn]))
    members = cast(pd.DataFrame, kept[entity_ids.isin(candidates).to_numpy()])
    member_entity_ids = cast(pd.Series, members[ENTITY_ID])
    sizes = member_entity_ids.value_counts().reindex(candidates).to_numpy()
    chosen = candidates[np.cumsum(sizes) <= spec.fit_sample_size]
    sample = from_cache(
        spec, cast(pd.DataFrame, members[member_entity_ids.isin(chosen).to_numpy()])
    )
    pairs = index_pairs(spec, sample)
    return Training(compare_pairs(spec, pairs, sample), pass_members(spec, pairs, sample, sample))


def random_rows(records: pd.DataFrame) -> pd.DataFrame:
    """A fixed pseudo-random sample of `BACKGROUND_RECORDS` rows (all if there are fewer)."""
    if len(records) <= BACKGROUND_RECORDS:
        return records
    return records.iloc[np.random.default_rng(0).choice(len(records), BACKGROUND_RECORDS, False)]
