"""Measure how fast the demo API serves one day of /listen_history to a sequential client."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import httpx
import orjson

from bench.common import demo_api_process

PAGE_SIZE = 10_000
TABLE_HEADER = (
    "| listens/day | records | MB | cold s | cold records/s | warm s | warm records/s |\n"
    "|---:|---:|---:|---:|---:|---:|---:|"
)


@dataclass(frozen=True)
class Pass:
    records: int
    megabytes: float
    seconds: float

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds


def read_all_pages(client: httpx.Client, day: str) -> Pass:
    """Fetch and parse every page of the day's listens, one request after another."""
    started = time.perf_counter()
    records, size_bytes, page, pages = 0, 0, 1, 1
    while page <= pages:
        response = client.get(
            "/listen_history", params={"day": day, "page": page, "size": PAGE_SIZE}
        )
        response.raise_for_status()
        body = orjson.loads(response.content)
        records += len(body["items"])
        size_bytes += len(response.content)
        pages = body["pages"]
        page += 1
    return Pass(records, size_bytes / 1e6, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listens-per-day", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--day", default="2026-01-15")
    args = parser.parse_args()
    with (
        demo_api_process(args.listens_per_day, args.seed) as url,
        httpx.Client(base_url=url, trust_env=False, timeout=120.0) as client,
    ):
        cold = read_all_pages(client, args.day)
        warm = read_all_pages(client, args.day)
    print(TABLE_HEADER)
    print(
        f"| {args.listens_per_day:,} | {cold.records:,} | {cold.megabytes:,.0f} "
        f"| {cold.seconds:.2f} | {cold.records_per_second:,.0f} "
        f"| {warm.seconds:.2f} | {warm.records_per_second:,.0f} |"
    )


if __name__ == "__main__":
    main()
