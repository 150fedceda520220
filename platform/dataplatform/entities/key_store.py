"""Where each entity snapshot's prepared-key cache is kept between daily runs, out of the table.

The cache (see `prepared_keys`) is internal: it must not appear in the entity table, its schema or
the catalog, so it is written beside the data, under `<base_path>/cache/<asset/key/path>/`, one
file per partition and run. A run reads the cache written by the run that wrote the snapshot it
reads, so a cache can never describe other records than the snapshot's; without one (first day,
another run's snapshot), the snapshot is prepared afresh.
"""

from typing import Any

import dagster as dg
import pandas as pd
from upath import UPath

from dataplatform.entities.prepared_keys import PREPARED_PREFIX
from dataplatform.entities.spec import EntitySpec


class PreparedKeyStore(dg.ConfigurableResource):
    """The prepared-key caches of the entity snapshots, under `<base_path>/cache/`."""

    base_path: str
    storage_options: dict[str, str] | None = None

    def save(
        self,
        spec: EntitySpec,
        snapshot: pd.DataFrame,
        key: dg.AssetKey,
        partition: str,
        run_id: str,
    ) -> pd.DataFrame:
        """Writes the snapshot's cache (its ids and `prepared__*` columns, in its order) as the
        cache of `run_id`, removes the partition's older caches, and returns the snapshot
        without its cache."""
        cached = snapshot.columns.str.startswith(PREPARED_PREFIX)
        folder = self._folder(key, partition)
        folder.mkdir(parents=True, exist_ok=True)
        cache = snapshot.loc[:, cached | (snapshot.columns == spec.id_column)]
        with (folder / f"{run_id}.parquet").open("wb") as sink:
            cache.to_parquet(sink, index=False)
        for older in folder.iterdir():
            if older.name != f"{run_id}.parquet":
                older.unlink()
        return snapshot.loc[:, ~cached]

    def load(
        self,
        spec: EntitySpec,
        snapshot: pd.DataFrame,
        key: dg.AssetKey,
        partition: str,
        run_id: str,
    ) -> pd.DataFrame:
        """The snapshot with the cache of `run_id` (the run that wrote it) attached, or as it
        is when there is no such cache or its ids are not the snapshot's."""
        path = self._folder(key, partition) / f"{run_id}.parquet"
        if not path.exists():
            return snapshot
        with path.open("rb") as source:
            cache = pd.read_parquet(source)
        ids = cache.pop(spec.id_column)
        if not ids.reset_index(drop=True).equals(snapshot[spec.id_column].reset_index(drop=True)):
            return snapshot
        return pd.concat([snapshot, cache.set_axis(snapshot.index)], axis=1)

    def _folder(self, key: dg.AssetKey, partition: str) -> UPath:
        # fsspec options, passed as keywords; typed Any as UPath's **storage_options are.
        options: dict[str, Any] = {**(self.storage_options or {})}
        return UPath(self.base_path, **options).joinpath("cache", *key.path, partition)
