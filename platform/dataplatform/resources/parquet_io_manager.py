"""Stores DataFrame assets as Parquet files (local or fsspec URL), atomically, per partition."""

from __future__ import annotations

import contextlib
import glob
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from dataplatform.catalog.profile import ProfileBuilder, TableProfile, profile_table
from dataplatform.catalog.sink import DataHubSink
from dataplatform.column_descriptions import column_description

# Input metadata keys understood by `load_input` (set them on `AssetIn(metadata=...)`).
COLUMNS = "columns"
ALLOW_MISSING_PARTITIONS = "allow_missing_partitions"
# A definition metadata key understood by `handle_output` (set it on the asset): what the rows
# are when they are not the data (a quality report's failing conditions). Their count is then
# written under that name, not as `dagster/row_count`, which the UI and health read as the size.
ROWS_ARE = "rows_are"

# A temporary older than this was abandoned by a killed process: no write takes so long.
ABANDONED_TEMPORARY_SECONDS = 6 * 3600

# The metadata `handle_output` adds to a materialisation.
OutputMetadata: TypeAlias = dict[str, int | str | dg.TableSchema | dg.MetadataValue]


@dataclass(frozen=True)
class StreamedTable:
    """A table too large to hold in memory: written batch by batch as `batches` yields them."""

    schema: pa.Schema
    batches: Iterable[pa.RecordBatch]


class ParquetIOManager(dg.ConfigurableIOManager):
    """One Parquet file per asset partition under `base_path`; inputs load as DataFrames.

    Layout: `<base_path>/<asset/key/path>/<partition_key>.parquet`, or
    `<base_path>/<asset/key/path>.parquet` for unpartitioned assets. Writes go to a
    temporary sibling and are moved into place only once complete, so a crash mid-write
    leaves the previous version intact.
    """

    base_path: str
    storage_options: dict[str, str] | None = None
    datahub: DataHubSink | None = None

    def handle_output(
        self, context: dg.OutputContext, obj: pd.DataFrame | pa.Table | StreamedTable
    ) -> None:
        path = self._path(context.asset_key, self._output_partition(context))
        schema, rows, profile = self._write(obj, path, context.asset_key)
        metadata: OutputMetadata = {
            _row_count_name(context): rows,
            **self._written_metadata(schema, path, context.asset_key.path[-1]),
        }
        if self.datahub is not None:
            metadata |= self.datahub.record_write(context, schema, profile(), str(path))
        context.add_output_metadata(metadata)

    def _write(
        self, obj: object, path: UPath, key: dg.AssetKey
    ) -> tuple[pa.Schema, int, Callable[[], TableProfile]]:
        """Writes `obj`; returns its schema, row count and (lazily, as only the catalog needs
        it) its profile."""
        if isinstance(obj, StreamedTable):
            profile = self._write_stream_atomically(obj, path)
            return obj.schema, profile.row_count, lambda: profile
        table = _as_arrow(obj, key)
        self._write_atomically(table, path)
        return table.schema, table.num_rows, lambda: profile_table(table)

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        metadata = context.definition_metadata or {}
        columns = metadata.get(COLUMNS)
        if not context.has_asset_partitions:
            return self._read(self._path(context.asset_key, None), columns)
        paths = [self._path(context.asset_key, key) for key in context.asset_partition_keys]
        if metadata.get(ALLOW_MISSING_PARTITIONS):
            paths = [path for path in paths if path.exists()]
        frames = [self._read(path, columns) for path in paths]
        if not frames:
            return pd.DataFrame(columns=columns or [])  # pyright: ignore[reportArgumentType]  # pandas' SequenceNotStr rejects list
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def path_for(self, asset_key: dg.AssetKey, partition_key: str | None = None) -> UPath:
        """Where an asset (partition) lives; used by tools that read the data directly."""
        return self._path(asset_key, partition_key)

    def _path(self, asset_key: dg.AssetKey, partition_key: str | None) -> UPath:
        options: dict[str, Any] = self.storage_options or {}
        path = UPath(self.base_path, **options).joinpath(*asset_key.path)
        if partition_key is not None:
            path = path.joinpath(*partition_key.split("|"))
        return path.with_name(path.name + ".parquet")

    @staticmethod
    def _output_partition(context: dg.OutputContext) -> str | None:
        if not context.has_asset_partitions:
            return None
        keys = context.asset_partition_keys
        if len(keys) != 1:
            raise ValueError(
                f"{context.asset_key.to_user_string()}: one Parquet file per partition, so a run"
                f" must write one partition at a time (got {len(keys)})"
            )
        return keys[0]

    @staticmethod
    def _write_atomically(table: pa.Table, path: UPath) -> None:
        with _temporary_sibling(path) as temporary:
            if _is_local(temporary):
                pq.write_table(table, temporary.path)  # Arrow's native file I/O is faster
            else:
                with temporary.open("wb") as sink:
                    pq.write_table(table, sink)

    @staticmethod
    def _write_stream_atomically(stream: StreamedTable, path: UPath) -> TableProfile:
        profile = ProfileBuilder(stream.schema)
        with (
            _temporary_sibling(path) as temporary,
            temporary.open("wb") as sink,
            pq.ParquetWriter(sink, stream.schema) as writer,
        ):
            for batch in stream.batches:
                writer.write_batch(batch)
                profile.add(batch)
        return profile.build()

    @staticmethod
    def _written_metadata(schema: pa.Schema, path: UPath, table: str) -> OutputMetadata:
        return {
            "dagster/column_schema": _table_schema(schema, table),
            "path": dg.MetadataValue.path(str(path)),
            "columns": len(schema),
        }

    @staticmethod
    def _read(path: UPath, columns: Sequence[str] | None) -> pd.DataFrame:
        if not path.exists():
            raise FileNotFoundError(
                f"No Parquet data at {path}: materialise that upstream asset partition first"
            )
        with path.open("rb") as source:
            return pq.read_table(source, columns=list(columns) if columns else None).to_pandas()


def _row_count_name(context: dg.OutputContext) -> str:
    rows_are = (context.definition_metadata or {}).get(ROWS_ARE)
    return str(rows_are) if rows_are else "dagster/row_count"


@contextmanager
def _temporary_sibling(path: UPath) -> Iterator[UPath]:
    """A temporary file next to `path`, moved onto it only if the block completes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_temporaries(path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield temporary
        _replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def _remove_abandoned_temporaries(path: UPath) -> None:
    """Removes the temporaries of `path` that a killed process left behind (a `finally` does
    not run after kill -9). Only old ones: a younger one may be another run's write."""
    if not _is_local(path):
        return
    abandoned_before = time.time() - ABANDONED_TEMPORARY_SECONDS
    for temporary in Path(path.path).parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            if temporary.stat().st_mtime < abandoned_before:
                temporary.unlink()


def _as_arrow(obj: object, asset_key: dg.AssetKey) -> pa.Table:
    """Arrow tables are written as they are, keeping declared types and nullability."""
    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pd.DataFrame):
        return pa.Table.from_pandas(obj, preserve_index=False)
    raise TypeError(
        f"ParquetIOManager stores pandas DataFrames or Arrow tables; asset"
        f" {asset_key.to_user_string()} returned {type(obj).__name__}"
    )


def _is_local(path: UPath) -> bool:
    return path.protocol in ("", "file", "local")


def _replace(source: UPath, target: UPath) -> None:
    if _is_local(source):
        os.replace(source.path, target.path)
    else:
        source.fs.mv(source.path, target.path)


def _table_schema(schema: pa.Schema, table: str) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=field.name,
                type=str(field.type),
                description=column_description(table, field.name) or None,
                constraints=dg.TableColumnConstraints(nullable=field.nullable),
            )
            for field in schema
        ]
    )
