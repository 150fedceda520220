"""Landing a listens CSV as Parquet against a bare pyarrow read and write, and its peak memory.

`python -m bench.bench_landing [MB]`: times a MB-sized CSV (default 200) and measures the peak RSS
of converting one five times as large (default 1 GB) in a fresh interpreter.
"""

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from bench.common import markdown_table, measure_in_child, timed
from dataplatform.landing.formats import open_landed_file

TIMED_MB = 200
MEMORY_FACTOR = 5
REPEATS = 5
CHUNK_ROWS = 100_000
DEVICES = ["mobile", "desktop", "web", "smart_speaker"]


def write_listens_csv(path: Path, megabytes: int) -> int:
    """A listens-like CSV of about `megabytes` MB; returns its row count."""
    rng = np.random.default_rng(0)
    written = 0
    with path.open("wb") as file:
        while file.tell() < megabytes * 1_000_000:
            ids = np.arange(written, written + CHUNK_ROWS)
            seconds = rng.integers(0, 86_400, CHUNK_ROWS).astype("timedelta64[s]")
            chunk = pa.table(
                {
                    "listen_id": pa.array(np.char.add("L", ids.astype(str))),
                    "user_id": rng.integers(0, 100_000, CHUNK_ROWS),
                    "track_id": rng.integers(0, 20_000, CHUNK_ROWS),
                    "listened_at": np.char.add(
                        (np.datetime64("2026-03-04T00:00:00") + seconds).astype(str), "Z"
                    ),
                    "ms_played": rng.integers(0, 300_000, CHUNK_ROWS),
                    "device": rng.choice(DEVICES, CHUNK_ROWS),
                }
            )
            options = pa_csv.WriteOptions(include_header=written == 0)
            pa_csv.write_csv(chunk, file, write_options=options)
            written += CHUNK_ROWS
    return written


def bare_conversion(source: Path, target: Path) -> None:
    pq.write_table(pa_csv.read_csv(source), target)


def landed_conversion(source: Path, target: Path) -> int:
    """Stream the landed file into Parquet as the landing asset does; returns the rows written."""
    conversion = open_landed_file(source, source.name)
    rows = 0
    with pq.ParquetWriter(target, conversion.schema) as writer:
        for batch in conversion.batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def seconds(work: Callable[[Path, Path], object], *args: Path) -> float:
    started = time.perf_counter()
    work(*args)
    return time.perf_counter() - started


def child_conversion(source: str) -> None:
    """In a fresh interpreter: convert `source` and print wall time and peak RSS as JSON."""
    print(json.dumps(timed(lambda: landed_conversion(Path(source), Path(source + ".parquet")))))


def streaming_memory(directory: Path, megabytes: int) -> tuple[float, dict]:
    """The size of a generated CSV and the time and peak RSS of converting it in a child."""
    source = directory / "large listens.csv"
    write_listens_csv(source, megabytes)
    measured = measure_in_child("bench.bench_landing", "--child", str(source))
    size_mb = source.stat().st_size / 1e6
    source.unlink()
    return size_mb, measured


def median_seconds(directory: Path, megabytes: int) -> tuple[float, int, float, float]:
    """The size and rows of a generated CSV and the median seconds of both conversions."""
    source = directory / "listens.csv"
    rows = write_listens_csv(source, megabytes)
    bare, landed = [], []
    for _ in range(REPEATS):  # interleaved so that drift hits both alike
        bare.append(seconds(bare_conversion, source, directory / "bare.parquet"))
        landed.append(seconds(landed_conversion, source, directory / "landed.parquet"))
    return source.stat().st_size / 1e6, rows, statistics.median(bare), statistics.median(landed)


def main(timed_mb: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # Memory first: a child's ru_maxrss starts from this process's RSS when it is spawned.
        large_mb, memory = streaming_memory(Path(tmp), timed_mb * MEMORY_FACTOR)
        size_mb, rows, bare_s, landed_s = median_seconds(Path(tmp), timed_mb)
    print(
        markdown_table(
            [f"CSV of {size_mb:.0f} MB ({rows:,} rows) to Parquet", "median s", "ratio", "target"],
            [
                ["bare pyarrow.csv.read_csv + pq.write_table", f"{bare_s:.2f}", "1.00", ""],
                [
                    "open_landed_file + ParquetWriter, batch by batch",
                    f"{landed_s:.2f}",
                    f"{landed_s / bare_s:.2f}",
                    "<= 1.25",
                ],
            ],
        )
    )
    print()
    print(
        markdown_table(
            ["streaming conversion in a fresh interpreter", "s", "peak RSS MB", "target"],
            [
                [
                    f"CSV of {large_mb:.0f} MB to Parquet",
                    f"{memory['seconds']:.1f}",
                    f"{memory['peak_rss_mb']:.0f}",
                    "< 1000",
                ]
            ],
        )
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child_conversion(sys.argv[2])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else TIMED_MB)
