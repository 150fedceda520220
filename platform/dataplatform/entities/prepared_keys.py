"""The cache of prepared columns and blocking keys a snapshot carries between daily runs.

With it, `resolve_increment` prepares and indexes only the day's records, and finds the
existing records that share a block with them by their hashed keys.
"""

from typing import cast

import numpy as np
import pandas as pd

from dataplatform.entities.blocking import prepare_records, prepared_columns
from dataplatform.entities.spec import EntitySpec

PREPARED_PREFIX = "prepared__"
PREPARED_MARK = f"{PREPARED_PREFIX}keys"


def with_prepared_keys(spec: EntitySpec, snapshot: pd.DataFrame) -> pd.DataFrame:
    """The snapshot with its prepared columns and one hashed key per blocking pass cached
    (`prepared__<column>`, `prepared__block_<pass>`, and `prepared__keys` = True), so that
    `resolve_increment` prepares only the changed records. Only rows that lack the cache
    (`prepared__keys` missing, e.g. the day's records appended to a cached snapshot) are
    prepared; store the result as the next day's snapshot."""
    missing = (
        snapshot[PREPARED_MARK].isna().to_numpy()
        if PREPARED_MARK in snapshot
        else np.ones(len(snapshot), dtype=bool)
    )
    if not missing.any():
        return snapshot
    fresh = cast(pd.DataFrame, snapshot[missing]).drop(columns=cache_columns(spec), errors="ignore")
    prepared = prepare_records(spec, fresh)
    cache = prepared[prepared_columns(spec)].add_prefix(PREPARED_PREFIX)
    cache = pd.concat([cache, block_keys(spec, prepared)], axis=1).assign(**{PREPARED_MARK: True})
    fresh = pd.concat([fresh, cache.set_axis(fresh.index)], axis=1)
    in_input_order = np.argsort(
        np.concatenate([np.flatnonzero(~missing), np.flatnonzero(missing)]), kind="stable"
    )
    return pd.concat([snapshot[~missing], fresh]).iloc[in_input_order]


def without_prepared_keys(snapshot: pd.DataFrame) -> pd.DataFrame:
    """The snapshot without the cache `with_prepared_keys` adds (e.g. for golden records)."""
    return snapshot.loc[:, ~snapshot.columns.str.startswith(PREPARED_PREFIX)]


def cache_columns(spec: EntitySpec) -> list[str]:
    """The cache's columns: prepared columns, one key per blocking pass, and the mark."""
    return (
        [PREPARED_PREFIX + column for column in prepared_columns(spec)]
        + block_columns(spec)
        + [PREPARED_MARK]
    )


def block_columns(spec: EntitySpec) -> list[str]:
    """The cache's hashed key of each blocking pass, in the passes' order."""
    return [f"{PREPARED_PREFIX}block_{number}" for number in range(len(spec.blocking))]


def block_keys(spec: EntitySpec, prepared: pd.DataFrame) -> pd.DataFrame:
    """One 64-bit hash of each blocking pass's key per record (canonical across dtypes, so
    that a key hashed today equals the same key hashed on another day)."""
    keys = {
        name: pd.util.hash_pandas_object(  # pyright: ignore[reportAttributeAccessIssue]  # pandas loads `util` lazily
            pd.DataFrame(
                {column: _canonical(cast(pd.Series, prepared[column])) for column in columns}
            ),
            index=False,
        ).to_numpy()
        for name, columns in zip(block_columns(spec), spec.blocking, strict=True)
    }
    return pd.DataFrame(keys, index=prepared.index)


def _canonical(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]").astype("int64").astype("float64")
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    return values.astype(object).where(values.notna(), None).astype(str)


def sharing_a_block(spec: EntitySpec, kept: pd.DataFrame, changed_keys: pd.DataFrame) -> np.ndarray:
    """Which kept records share a blocking key with a changed record (all of them when a
    sorted-neighbourhood pass needs the whole order). Hash collisions only add records:
    recordlinkage's indexers then pair on the actual values."""
    if spec.sorted_neighbourhood:
        return np.ones(len(kept), dtype=bool)
    near = np.zeros(len(kept), dtype=bool)
    for name in changed_keys:
        near |= pd.Series(kept[name].to_numpy()).isin(changed_keys[name].to_numpy()).to_numpy()
    return near


def from_cache(spec: EntitySpec, cached: pd.DataFrame) -> pd.DataFrame:
    """Prepared records (as `prepare_records` gives them) from a snapshot's cache."""
    columns = prepared_columns(spec)
    cache = cast(pd.DataFrame, cached[[PREPARED_PREFIX + column for column in columns]])
    prepared = cache.set_axis(columns, axis=1)
    return prepared.set_axis(pd.Index(cached[spec.id_column].to_numpy()), axis=0)
