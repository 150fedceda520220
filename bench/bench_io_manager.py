"""IO manager write of 1,000,000 rows, with and without lineage, against a bare Parquet write."""

import statistics
import tempfile
import time
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bench.common import markdown_table
from dataplatform.catalog.sink import DataHubSink
from dataplatform.resources.parquet_io_manager import ParquetIOManager

ROWS = 1_000_000
REPEATS = 9


def frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "listen_id": [f"L{i}" for i in range(rows)],
            "user_id": rng.integers(0, 100_000, rows),
            "track_id": rng.integers(0, 20_000, rows),
            "listened_at": pd.Timestamp("2026-03-04", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 86_400, rows), unit="s"),
            "ms_played": rng.integers(0, 300_000, rows),
            "device": rng.choice(["mobile", "desktop", "web", "smart_speaker"], rows),
        }
    )


def bare_write(data: pd.DataFrame, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(data, preserve_index=False), path)


def io_manager_write(data: pd.DataFrame, base: Path, datahub: DataHubSink | None = None) -> float:
    """Seconds spent in `handle_output`; the context Dagster would already hold is built first."""
    context = dg.build_output_context(asset_key=dg.AssetKey(["bench", "listens"]))
    io_manager = ParquetIOManager(base_path=str(base), datahub=datahub)
    started = time.perf_counter()
    io_manager.handle_output(context, data)
    return time.perf_counter() - started


def main() -> None:
    data = frame(ROWS)
    bare, managed, catalogued = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        lite = DataHubSink(lite_path=f"{tmp}/catalog/lite.sqlite", spool_dir=f"{tmp}/catalog/spool")
        for _ in range(REPEATS):  # interleaved so that drift hits all alike
            started = time.perf_counter()
            bare_write(data, Path(tmp) / "bare.parquet")
            bare.append(time.perf_counter() - started)
            managed.append(io_manager_write(data, Path(tmp)))
            catalogued.append(io_manager_write(data, Path(tmp), lite))
    bare_s, managed_s, catalogued_s = (statistics.median(t) for t in (bare, managed, catalogued))
    rows = [
        ["bare pyarrow.parquet.write_table", f"{bare_s:.3f}", "1.00", ""],
        ["ParquetIOManager", f"{managed_s:.3f}", f"{managed_s / bare_s:.2f}", "<= 1.15"],
        [
            "ParquetIOManager + lineage to DataHub Lite",
            f"{catalogued_s:.3f}",
            f"{catalogued_s / bare_s:.2f}",
            "<= 1.3",
        ],
    ]
    print(markdown_table(["write of 1,000,000 rows", "median s", "ratio", "target"], rows))
    print(
        f"\nEmission cost per asset (profile, MCPs, locked Lite write):"
        f" {1000 * (catalogued_s - managed_s):.0f} ms"
    )


if __name__ == "__main__":
    main()
