"""The parts of an incremental run: its candidate pairs, training sample and random records."""

from typing import cast

import numpy as np
import pandas as pd

from dataplatform.entities.blocking import index_pairs, pass_members
from dataplatform.entities.classification import Training
from dataplatform.entities.clustering import ENTITY_ID
from dataplatform.entities.compare import compare_pairs
from dataplatform.entities.prepared_keys import from_cache
from dataplatform.entities.spec import EntitySpec

# An increment draws its random pairs among this many existing records (and the new ones).
BACKGROUND_RECORDS = 5_000


def increment_pairs(
    spec: EntitySpec, changed: pd.DataFrame, current: pd.DataFrame
) -> pd.MultiIndex:
    """Pairs of a changed record with any current record, each unordered pair once."""
    pairs = index_pairs(spec, changed, current)
    left, right = pairs.get_level_values(0), pairs.get_level_values(1)
    changed_position = pd.Series(np.arange(len(changed)), index=changed.index)
    right_changed_position = changed_position.reindex(right).to_numpy()
    left_position = changed_position.reindex(left).to_numpy()
    # Two changed records meet twice, as (a, b) and (b, a): keep the first orientation.
    twice = ~np.isnan(right_changed_position) & (right_changed_position <= left_position)
    return cast(pd.MultiIndex, pairs[(left != right) & ~twice])


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
