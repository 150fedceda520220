"""The mart: 1,000,000-listens days published into DuckDB and PostgreSQL, over a 30-day history.

Each day's cleaned tables come from the demo API's generator at 1,000,000 listens a day (users,
tracks and reviews scaled alike, as `DemoApiConfig.scaled` does), with the entities of a day's
users (each account's person). Every day is written as Parquet (the baseline: what the IO
manager writes), read back as the mart asset reads it, and published into a DuckDB file, so each
day's ratio compares the two on the same tables in the same run. Each day is also published into
a second DuckDB file as the mart did before its distinct text ids (`listen_id`, `entity_id`)
were stored uncompressed (DuckDB's DICT_FSST compression), so before and after are measured in
one run. Then, over the days: the "top 10 tracks per genre over the last 7 days" query, and
days 1-3 into PostgreSQL (COPY).
Usage: `python -m bench.bench_mart [DAYS]` (default 30); PostgreSQL at
DATAPLATFORM_BENCH_MART_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
"""

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import psycopg2
import pyarrow as pa
import pyarrow.parquet as pq

from bench.common import markdown_table
from dataplatform.demo_api import DemoApiConfig
from dataplatform.demo_api.generator import clean_listens, clean_reviews, clean_tracks, clean_users
from dataplatform.demo_api.table import Table, render_dates, render_plain, render_timestamps
from dataplatform.demo_api.users import root_user_ids, user_population
from dataplatform.mart.connection import connect
from dataplatform.mart.days import read_day, source_path
from dataplatform.mart.duckdb_mart import DuckDBMart
from dataplatform.mart.publish import PublishedDay, publish_day
from dataplatform.mart.schema import DUCKDB
from dataplatform.mart.tables import (
    DAILY_TABLES,
    LISTENS,
    REVIEWS,
    TRACKS,
    USER_ENTITIES,
    USER_GOLDEN,
    USERS,
    MartTable,
)
from dataplatform.mart.target import MartTarget, mart_target

LISTENS_PER_DAY = 1_000_000
DEFAULT_DAYS = 30
POSTGRES_DAYS = 3
QUERY_REPEATS = 5
POSTGRES_URL = os.getenv(
    "DATAPLATFORM_BENCH_MART_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
POSTGRES_SCHEMA = "bench_mart"
T = TypeVar("T")
# Listens counted per track before the join: grouping 7,000,000 joined rows by two strings
# cost more than the scan (EXPLAIN ANALYZE); the answer is the same as grouping after the join.
TOP_TRACKS = """
WITH plays AS (
  SELECT track_id, count(*) AS plays FROM listens
  WHERE day > DATE '{last_day}' - INTERVAL 7 DAY GROUP BY track_id
)
SELECT t.genre, t.title, sum(p.plays) AS plays
FROM plays p JOIN tracks_current t USING (track_id)
GROUP BY t.genre, t.title
QUALIFY row_number() OVER (PARTITION BY t.genre ORDER BY sum(p.plays) DESC, t.title) <= 10
ORDER BY t.genre, plays DESC
"""
# The same question grouped after the join, as it was measured before.
TOP_TRACKS_JOINED_FIRST = """
SELECT t.genre, t.title, count(*) AS plays
FROM listens l JOIN tracks_current t USING (track_id)
WHERE l.day > DATE '{last_day}' - INTERVAL 7 DAY
GROUP BY t.genre, t.title
QUALIFY row_number() OVER (PARTITION BY t.genre ORDER BY count(*) DESC, t.title) <= 10
ORDER BY t.genre, plays DESC
"""


def arrow(table: Table) -> pa.Table:
    """A generator table typed as the cleaned tables are (ids and counts int64, UTC times)."""
    columns = {}
    for name, column in table.columns.items():
        values = column.values
        if column.render is render_timestamps:
            seconds = pa.array(values.astype("datetime64[s]"))
            columns[name] = seconds.cast(pa.timestamp("us", tz="UTC"))
        elif column.render is render_dates:
            columns[name] = pa.array(values.astype("datetime64[D]"))
        elif column.render is render_plain and values.dtype != object:
            columns[name] = pa.array(values, pa.int64())
        else:
            columns[name] = pa.array(column.render(values), pa.string())
    return pa.table(columns)


def entities(config: DemoApiConfig, index: int) -> tuple[pa.Table, pa.Table]:
    """Every account existing on the day with its person, and one golden row per person."""
    users = np.arange(1, user_population(config).existing(index) + 1)
    people = root_user_ids(config, users)
    entity_ids = pa.array([f"E{person}" for person in people.tolist()])
    golden_ids, members = np.unique(people, return_counts=True)
    user_entities = pa.table({"user_id": pa.array(users, pa.int64()), "entity_id": entity_ids})
    golden = pa.table(
        {
            "entity_id": pa.array([f"E{person}" for person in golden_ids.tolist()]),
            "member_count": pa.array(members, pa.int64()),
        }
    )
    return user_entities, golden


def demo_day(config: DemoApiConfig, index: int) -> dict[MartTable, pa.Table]:
    user_entities, golden = entities(config, index)
    return {
        USERS: arrow(clean_users(config, index)),
        TRACKS: arrow(clean_tracks(config, index)),
        LISTENS: arrow(clean_listens(config, index)),
        REVIEWS: arrow(clean_reviews(config, index)),
        USER_ENTITIES: user_entities,
        USER_GOLDEN: golden,
    }


def timed(work: Callable[..., T], *args: object) -> tuple[float, T]:
    started = time.perf_counter()
    result = work(*args)
    return time.perf_counter() - started, result


def write_parquet(data_dir: Path, day: str, tables: dict[MartTable, pa.Table]) -> None:
    for table, rows in tables.items():
        path = data_dir.joinpath(*table.source, f"{day}.parquet")
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(rows, path)


def read_parquet(data_dir: Path, day: str) -> dict[MartTable, pa.Table | None]:
    return {t: read_day(source_path(str(data_dir), t, day), t, day) for t in DAILY_TABLES}


def publish(target: MartTarget, day: str, rows: dict[MartTable, pa.Table | None]) -> PublishedDay:
    with connect(target) as mart:
        return publish_day(mart, day, rows)


class CompressedIds(DuckDBMart):
    """The DuckDB mart as it was before its distinct text ids were stored uncompressed: every
    text column compressed by DuckDB (DICT_FSST for the distinct ids)."""

    dialect = replace(DUCKDB, uncompressed="")


def publish_before(path: Path, day: str, rows: dict[MartTable, pa.Table | None]) -> PublishedDay:
    with closing(duckdb.connect(str(path))) as connection:
        return publish_day(CompressedIds(connection, str(path)), day, rows)


def day_rows(published: PublishedDay) -> int:
    return sum(table.day_rows for table in published.tables)


def duckdb_history(config: DemoApiConfig, days: int, tmp: Path) -> list[list[object]]:
    """Each day: Parquet written, read back, published into DuckDB, now and as before (the
    order alternating day by day); a row per day."""
    target = mart_target("", str(tmp))
    before = tmp / "before" / "mart.duckdb"
    before.parent.mkdir()
    history = []
    for index in range(days):
        day = (config.start_date + timedelta(days=index)).isoformat()
        tables = demo_day(config, index)
        parquet_s, _ = timed(write_parquet, tmp / "data", day, tables)
        read_s, rows = timed(read_parquet, tmp / "data", day)
        if index % 2:
            before_s, _ = timed(publish_before, before, day, rows)
        publish_s, published = timed(publish, target, day, rows)
        if not index % 2:
            before_s, _ = timed(publish_before, before, day, rows)
        history.append([day, parquet_s, read_s, publish_s, published, before_s])
        print(
            f"day {index + 1}: parquet {parquet_s:.2f} s, publish {publish_s:.2f} s"
            f" (before {before_s:.2f} s)",
            file=sys.stderr,
        )
    return history


def top_tracks_seconds(
    target: MartTarget, last_day: str, query: str
) -> tuple[float, list[float], int]:
    """The first run's seconds, then the next runs', and the rows answered."""
    seconds, rows = [], 0
    with connect(target, read_only=True) as mart:
        for _ in range(QUERY_REPEATS + 1):
            took, answer = timed(mart.query, query.format(last_day=last_day))
            seconds.append(took)
            rows = len(answer)
    return seconds[0], seconds[1:], rows


def postgres_days(config: DemoApiConfig, days: int, tmp: Path) -> list[list[object]]:
    """The first days (already written as Parquet) into a fresh PostgreSQL schema, then the
    last of them again (a day replaced), whole and its listens alone."""
    target = mart_target(f"{POSTGRES_URL}?schema={POSTGRES_SCHEMA}", "")
    drop_postgres_schema()
    runs = []
    try:
        plan = [(index, "", DAILY_TABLES) for index in range(days)]
        last = days - 1
        plan += [(last, " again", DAILY_TABLES), (last, " again, listens alone", (LISTENS,))]
        for index, note, tables in plan:
            day = (config.start_date + timedelta(days=index)).isoformat()
            rows = {t: r for t, r in read_parquet(tmp / "data", day).items() if t in tables}
            seconds, published = timed(publish, target, day, rows)
            runs.append([f"{day}{note}", seconds, published])
    finally:
        drop_postgres_schema()
    return runs


def drop_postgres_schema() -> None:
    connection = psycopg2.connect(POSTGRES_URL, connect_timeout=10)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{POSTGRES_SCHEMA}" CASCADE')
    connection.close()


def listens_of(published: PublishedDay) -> int:
    return next(t.day_rows for t in published.tables if t.name == LISTENS.name)


def report(
    history: list[list[object]], postgres: list[list[object]], query: tuple, joined_first: tuple
) -> None:
    rows = []
    for day, parquet_s, read_s, publish_s, published, before_s in history:
        assert isinstance(published, PublishedDay)
        ratio = (read_s + publish_s) / parquet_s  # type: ignore[operator]
        ratio_before = (read_s + before_s) / parquet_s  # type: ignore[operator]
        rows.append(
            [day, f"{day_rows(published):,}", f"{parquet_s:.2f}", f"{read_s:.2f}",
             f"{publish_s:.2f}", f"{ratio:.2f}", f"{before_s:.2f}", f"{ratio_before:.2f}"]
        )  # fmt: skip
    print("Each day's tables (users, tracks, listens, reviews, entities) written as Parquet,")
    print("read back and published into the DuckDB mart, and into a second file as before")
    print("(text ids compressed by DuckDB; days 1-3, 10, 20, 28-30 shown):\n")
    header = ["day", "rows", "Parquet write s", "read s", "publish s", "(read+publish)/Parquet"]
    header += ["publish s, before", "ratio, before"]
    shown = [r for i, r in enumerate(rows) if i < 3 or i >= len(rows) - 3 or (i + 1) % 10 == 0]
    print(markdown_table(header, shown))
    ratios = [float(r[5]) for r in rows]
    ratios_before = [float(r[7]) for r in rows]
    publish_s = [float(r[4]) for r in rows]
    print(
        f"\nRatio to the Parquet write: median {statistics.median(ratios):.2f},"
        f" max {max(ratios):.2f} (target <= 1.5); before, in the same run: median"
        f" {statistics.median(ratios_before):.2f}, max {max(ratios_before):.2f}."
        f" Day {len(rows)} against day 1: {publish_s[-1] / publish_s[0]:.2f}x"
        f" ({publish_s[-1]:.2f} s / {publish_s[0]:.2f} s; target <= 1.3); against day 2"
        f" (the first day after the initial load): {publish_s[-1] / publish_s[1]:.2f}x."
    )
    first, repeats, answered = query
    print(
        f"\nTop 10 tracks per genre over the last 7 days ({answered} rows) over {len(rows)} days"
        f" of {LISTENS_PER_DAY:,} listens: first run {first:.3f} s, then median"
        f" {statistics.median(repeats):.3f} s of {len(repeats)} (target < 1 s); grouped after"
        f" the join instead of counted per track first: first run {joined_first[0]:.3f} s,"
        f" then median {statistics.median(joined_first[1]):.3f} s."
    )
    pg_rows = []
    for day, seconds, published in postgres:
        assert isinstance(published, PublishedDay)
        total = day_rows(published)
        pg_rows.append(
            [day, f"{total:,}", f"{seconds:.2f}", f"{total / seconds:,.0f}",  # type: ignore[operator]
             f"{listens_of(published):,}"]
        )  # fmt: skip
    print("\nThe same days' Parquet published into PostgreSQL (COPY; target >= 200,000 rows/s):\n")
    print(markdown_table(["day", "rows", "publish s", "rows/s", "of which listens"], pg_rows))


def main(days: int) -> None:
    config = DemoApiConfig.scaled(listens_per_day=LISTENS_PER_DAY)
    load_before = os.getloadavg()[1]
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        history = duckdb_history(config, days, tmp)
        target = mart_target("", str(tmp))
        last_day = str(history[-1][0])
        query = top_tracks_seconds(target, last_day, TOP_TRACKS)
        joined_first = top_tracks_seconds(target, last_day, TOP_TRACKS_JOINED_FIRST)
        postgres = postgres_days(config, min(POSTGRES_DAYS, days), tmp)
    report(history, postgres, query, joined_first)
    print(
        f"\nLoad average over 5 minutes at the start and the end: {load_before:.1f},"
        f" {os.getloadavg()[1]:.1f} ({os.cpu_count()} cores shared with other work)."
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DAYS)
