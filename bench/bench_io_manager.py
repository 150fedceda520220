"""IO manager write of a 1,000,000-row frame against a bare `pyarrow.parquet.write_table`."""

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


def io_manager_write(data: pd.DataFrame, base: Path) -> float:
    """Seconds spent in `handle_output`; the context Dagster would already hold is built first."""
    context = dg.build_output_context(asset_key=dg.AssetKey(["bench", "listens"]))
    io_manager = ParquetIOManager(base_path=str(base))
    started = time.perf_counter()
    io_manager.handle_output(context, data)
    return time.perf_counter() - started


def main() -> None:
    data = frame(ROWS)
    bare, managed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(REPEATS):  # interleaved so that drift hits both alike
            started = time.perf_counter()
            bare_write(data, Path(tmp) / "bare.parquet")
            bare.append(time.perf_counter() - started)
            managed.append(io_manager_write(data, Path(tmp)))
    bare_s, managed_s = statistics.median(bare), statistics.median(managed)
    print(
        markdown_table(
            ["write of 1,000,000 rows", "median s", "ratio", "target"],
            [
                ["bare pyarrow.parquet.write_table", f"{bare_s:.3f}", "1.00", ""],
                [
                    "ParquetIOManager.handle_output",
                    f"{managed_s:.3f}",
                    f"{managed_s / bare_s:.2f}",
                    "<= 1.15",
                ],
            ],
        )
    )


if __name__ == "__main__":
    main()
