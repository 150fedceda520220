"""Faults while publishing: a DuckDB file held by another process, PostgreSQL down or restarted
mid-load. Real processes and a real server: nothing of a day is half-published, and a retry
publishes it."""

import logging
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pyarrow as pa
import pytest
from platform_tests.mart.conftest import DAY_1, DAY_2, MART_POSTGRES_URL, postgres_target

from dataplatform.mart.connection import MartBusyError, MartUnreachableError, connect
from dataplatform.mart.days import read_day, source_path
from dataplatform.mart.postgres_mart import MartConnectionLostError, PostgresMart
from dataplatform.mart.publish import MartConnection, PublishedDay, publish_day
from dataplatform.mart.schema import quoted
from dataplatform.mart.tables import DAILY_TABLES, PUBLICATIONS
from dataplatform.mart.target import MartTarget, mart_target

HOLD = (
    "import duckdb, sys\n"
    "connection = duckdb.connect(sys.argv[1], read_only=True)\n"
    "print('holding', flush=True)\n"
    "sys.stdin.read()\n"
)
GENEROUS_SECONDS = 120


def day_rows(data: Path, day: str) -> dict:
    return {t: read_day(source_path(str(data), t, day), t, day) for t in DAILY_TABLES}


def publish(mart: MartConnection, data: Path, day: str) -> PublishedDay:
    return publish_day(mart, day, day_rows(data, day))


def listened_days(target: MartTarget) -> list[str]:
    with connect(target, read_only=True) as mart:
        rows = mart.query(
            f"SELECT DISTINCT day FROM {quoted(mart.schema_name, 'listens')} ORDER BY 1"
        )
    return [day.isoformat() for (day,) in rows]


@contextmanager
def reader_holding(path: str) -> Iterator[subprocess.Popen[str]]:
    """Another process with the DuckDB file open (read-only), until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        if holder.stdin is not None:
            holder.stdin.close()  # the holder reads to the end of its input, then exits
        holder.wait(timeout=GENEROUS_SECONDS)


def test_a_file_held_by_another_process_is_a_clear_error_naming_file_and_holder(
    tmp_path: Path, history: Path
):
    target = mart_target("", str(tmp_path))
    with connect(target) as mart:
        publish(mart, history, DAY_1)

    with reader_holding(target.duckdb_path) as holder:
        expected = rf"mart {re.escape(target.duckdb_path)} is held by .+ \(PID {holder.pid}\)"
        with pytest.raises(MartBusyError, match=expected), connect(target, wait_seconds=0):
            pass

    with connect(target) as mart:  # let go: the day publishes
        publish(mart, history, DAY_2)
    assert listened_days(target) == [DAY_1, DAY_2]


def test_a_writer_waits_for_a_reader_to_let_go_of_the_file(
    tmp_path: Path, history: Path, caplog: pytest.LogCaptureFixture
):
    target = mart_target("", str(tmp_path))
    with connect(target) as mart:
        publish(mart, history, DAY_1)
    caplog.set_level(logging.WARNING, logger="dataplatform.mart.connection")
    outcome: list[object] = []

    def publish_day_2() -> None:
        try:
            with connect(target, wait_seconds=GENEROUS_SECONDS) as mart:
                outcome.append(publish(mart, history, DAY_2))
        except Exception as error:  # reported by the assertion below
            outcome.append(error)

    writer = threading.Thread(target=publish_day_2)
    with reader_holding(target.duckdb_path):
        writer.start()
        deadline = time.monotonic() + GENEROUS_SECONDS
        while not any("is held by" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the writer never found the file held"
            time.sleep(0.05)
    writer.join(timeout=GENEROUS_SECONDS)

    assert not writer.is_alive()
    assert [type(o) for o in outcome] == [PublishedDay], outcome
    assert listened_days(target) == [DAY_1, DAY_2]


class RestartedMidLoad(PostgresMart):
    """Its session is ended from another connection as the listens start loading, as a server
    restart ends it (pg_terminate_backend, waiting until the session is gone)."""

    def copy(self, relation: str, rows: pa.Table) -> None:
        if "listens" in relation:
            (pid,) = self.query("SELECT pg_backend_pid()")[0]
            other = psycopg2.connect(MART_POSTGRES_URL, connect_timeout=10)
            other.autocommit = True
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(%s, %s)", (pid, GENEROUS_SECONDS * 1000)
                )
            other.close()
        super().copy(relation, rows)


def mart_state(target: MartTarget) -> dict[str, list]:
    """Every table's rows and the schema's tables (a leftover loading table would show)."""
    with connect(target, read_only=True) as mart:
        state = {
            name: sorted(mart.query(f"SELECT * FROM {quoted(mart.schema_name, name)}"), key=repr)
            for name in ("users", "tracks", "listens", "reviews", "user_golden", PUBLICATIONS)
        }
        state["tables"] = sorted(
            mart.query(
                "SELECT table_name FROM information_schema.tables"
                f" WHERE table_schema = '{mart.schema_name}'"
            )
        )
    return state


def test_postgres_restarted_mid_load_publishes_nothing_of_the_day_and_a_retry_does(
    postgres_schema: str, history: Path
):
    target = postgres_target(postgres_schema)
    with connect(target) as mart:
        publish(mart, history, DAY_1)
    before = mart_state(target)

    connection = psycopg2.connect(target.postgres_dsn, connect_timeout=10)
    restarted = RestartedMidLoad(connection, target.postgres_schema, target.location)
    with pytest.raises(MartConnectionLostError, match="nothing of it was published"):
        publish(restarted, history, DAY_2)  # users and tracks were written in the transaction
    connection.close()

    assert mart_state(target) == before
    with connect(target) as mart:
        published = publish(mart, history, DAY_2)
    assert {t.name: t.day_rows for t in published.tables}["listens"] == 2
    assert listened_days(target) == [DAY_1, DAY_2]


def test_postgres_down_is_a_clear_error_naming_the_mart(history: Path):
    target = mart_target("postgresql://postgres@127.0.0.1:1/test?schema=mart", "")

    with (
        pytest.raises(
            MartUnreachableError, match=r"127\.0\.0\.1:1/test \(schema mart\) is unreachable"
        ),
        connect(target) as mart,
    ):
        publish(mart, history, DAY_1)
