"""A small platform history written where the IO manager writes it, and a mart in each database.

Two days: day 1 has users 1-3 and tracks 10-11; day 2 changes user 2's city and track 11's
genre and adds user 4. Facts are two listens and a review a day; entities a snapshot a day.
"""

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg2
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from platform_tests.services import service_unavailable

from dataplatform.mart.connection import connect
from dataplatform.mart.publish import MartConnection
from dataplatform.mart.target import MartTarget, mart_target

DAY_1, DAY_2 = "2026-03-01", "2026-03-02"
MART_POSTGRES_URL = os.getenv(
    "DATAPLATFORM_TEST_MART_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def at(day: str, hour: int) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC).replace(hour=hour)


def users(day: str) -> pa.Table:
    if day == DAY_1:
        ids, cities = [1, 2, 3], ["Lyon", "Paris", "Oslo"]
    else:
        ids, cities = [2, 4], ["Nice", "Rome"]
    return pa.table(
        {
            "user_id": pa.array(ids, pa.int64()),
            "first_name": [f"user{i}" for i in ids],
            "city": cities,
            "updated_at": pa.array([at(day, 8 + i) for i in ids], pa.timestamp("us", tz="UTC")),
        }
    )


def tracks(day: str) -> pa.Table:
    ids, genres = ([10, 11], ["rock", "jazz"]) if day == DAY_1 else ([11], ["pop"])
    return pa.table(
        {
            "track_id": pa.array(ids, pa.int64()),
            "title": [f"track{i}" for i in ids],
            "genre": genres,
            "updated_at": pa.array([at(day, 6)] * len(ids), pa.timestamp("us", tz="UTC")),
        }
    )


def listens(day: str) -> pa.Table:
    return pa.table(
        {
            "listen_id": [f"{day}-a", f"{day}-b"],
            "user_id": pa.array([1, 2], pa.int64()),
            "track_id": pa.array([10, 11], pa.int64()),
            "listened_at": pa.array([at(day, 12)] * 2, pa.timestamp("us", tz="UTC")),
            "ms_played": pa.array([1000, None], pa.int64()),
        }
    )


def reviews(day: str) -> pa.Table:
    return pa.table(
        {
            "review_id": [f"r-{day}"],
            "user_id": pa.array([None], pa.int64()),
            "track_id": pa.array([10], pa.int64()),
            "rating": pa.array([5], pa.int64()),
            "text": ['great, "really"\nsecond line'],
            "created_at": pa.array([at(day, 13)], pa.timestamp("us", tz="UTC")),
        }
    )


def user_entities(day: str) -> pa.Table:
    ids = [1, 2, 3] if day == DAY_1 else [1, 2, 3, 4]
    return pa.table(
        {
            "user_id": pa.array(ids, pa.int64()),
            "first_name": [f"user{i}" for i in ids],
            "entity_id": [f"E{min(i, 3)}" for i in ids],  # user 4 is a second account of 3's
            "prepared__given_name": ["x"] * len(ids),
        }
    )


def user_golden(day: str) -> pa.Table:
    return pa.table({"entity_id": ["E1", "E2", "E3"], "member_count": [1, 1, 1 + (day == DAY_2)]})


SOURCES: dict[tuple[str, ...], Callable[[str], pa.Table]] = {
    ("cleaned", "users"): users,
    ("cleaned", "tracks"): tracks,
    ("cleaned", "listens"): listens,
    ("cleaned", "reviews"): reviews,
    ("entities", "user_entities"): user_entities,
    ("entities", "user_golden"): user_golden,
}


def write_source(data: Path, key: tuple[str, ...], day: str, table: pa.Table) -> None:
    folder = data.joinpath(*key)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / f"{day}.parquet")


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """The data dir with both days of every daily source (no model outputs)."""
    data = tmp_path / "data"
    for day in (DAY_1, DAY_2):
        for key, build in SOURCES.items():
            write_source(data, key, day, build(day))
    return data


def postgres_target(schema: str) -> MartTarget:
    return mart_target(f"{MART_POSTGRES_URL}?schema={schema}", "")


def drop_schema(schema: str) -> None:
    connection = psycopg2.connect(MART_POSTGRES_URL, connect_timeout=3)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    connection.close()


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A schema of one's own in the `test` database, dropped afterwards."""
    schema = f"mart_test_{uuid.uuid4().hex[:10]}"
    try:
        drop_schema(schema)
    except psycopg2.OperationalError as error:
        service_unavailable(f"PostgreSQL is not reachable at {MART_POSTGRES_URL}: {error}")
    yield schema
    drop_schema(schema)


@pytest.fixture(params=["duckdb", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> MartTarget:
    """The same mart in each database."""
    if request.param == "duckdb":
        return mart_target("", str(tmp_path))
    return postgres_target(request.getfixturevalue("postgres_schema"))


@pytest.fixture
def open_mart(target: MartTarget) -> Callable[[], AbstractContextManager[MartConnection]]:
    return lambda: connect(target)
