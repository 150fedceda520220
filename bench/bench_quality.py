"""Deepchecks integrity report time: 100,000 and 1,000,000 rows with the default sample, and
100,000 rows in full, each from a loaded DataFrame to the saved HTML and summary."""

import tempfile
import time
import warnings

import numpy as np
import pandas as pd

from bench.common import markdown_table
from dataplatform.quality.integrity import integrity_report
from dataplatform.quality.reports import DEFAULT_SAMPLE_SIZE, ReportStore

TARGET_SECONDS = 60  # the integrity report on 1,000,000 rows, on 2 cores
DEVICES = ["mobile", "desktop", "web", "smart_speaker"]


def listens(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "listen_id": [f"L{i}" for i in range(rows)],
            "user_id": pd.array(rng.integers(0, 100_000, rows), dtype="Int64"),
            "track_id": pd.array(rng.integers(0, 20_000, rows), dtype="Int64"),
            "listened_at": pd.Timestamp("2026-03-04", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 86_400, rows), unit="s"),
            "ms_played": pd.array(rng.integers(0, 300_000, rows), dtype="Int64"),
            "device": pd.array(rng.choice(DEVICES, rows), dtype="string"),
        }
    )


def report_seconds(data: pd.DataFrame, sample_size: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        store = ReportStore(base_path=tmp, sample_size=sample_size)
        started = time.perf_counter()
        report = integrity_report(data, store, ["bench", "listens"], "2026-03-04", ["listen_id"])
        return time.perf_counter() - started, report.sample_rows


def main() -> None:
    warnings.simplefilter("ignore")
    report_seconds(listens(1_000), DEFAULT_SAMPLE_SIZE)  # deepchecks' first-call imports
    cases = [
        (100_000, DEFAULT_SAMPLE_SIZE, ""),
        (1_000_000, DEFAULT_SAMPLE_SIZE, f"< {TARGET_SECONDS}"),
        (100_000, 100_000, ""),
    ]
    rows = []
    for total, sample_size, target in cases:
        seconds, sampled = report_seconds(listens(total), sample_size)
        rows.append([f"{total:,}", f"{sampled:,}", f"{seconds:.1f}", target])
    print(markdown_table(["table rows", "rows checked", "seconds", "target s"], rows))


if __name__ == "__main__":
    main()
