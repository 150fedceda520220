"""An open connection to the mart's database, DuckDB or PostgreSQL, as its target says.

DuckDB lets one process at a time open a file for writing (and none for reading meanwhile):
a file held by another process is waited for, up to a bound, then a `MartBusyError` names the
file and the process holding it.
"""

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import psycopg2
import psycopg2.extensions

from dataplatform.mart.duckdb_mart import DuckDBMart
from dataplatform.mart.postgres_mart import PostgresMart
from dataplatform.mart.publish import MartConnection
from dataplatform.mart.target import MartTarget

logger = logging.getLogger(__name__)

# As long as dagster-duckdb's resource waits for the file (10 retries, about 100 s).
DUCKDB_WAIT_SECONDS = 100.0
LONGEST_PAUSE_SECONDS = 5.0
HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


class MartBusyError(RuntimeError):
    """Another process held the DuckDB mart file for longer than we waited."""


class MartUnreachableError(ConnectionError):
    """The PostgreSQL mart could not be connected to."""


@contextmanager
def connect(
    target: MartTarget, read_only: bool = False, wait_seconds: float = DUCKDB_WAIT_SECONDS
) -> Iterator[MartConnection]:
    """An open connection to the mart (outside the platform's runs, e.g. the CLI's)."""
    if target.is_postgres:
        connection = connect_postgres(target)
        connection.set_session(readonly=read_only)
        try:
            yield PostgresMart(connection, target.postgres_schema, target.location)
        finally:
            connection.close()
        return
    if not read_only:
        Path(target.duckdb_path).parent.mkdir(parents=True, exist_ok=True)
    with open_duckdb(target.duckdb_path, read_only, wait_seconds) as connection:
        yield DuckDBMart(connection, target.location)


def connect_postgres(target: MartTarget) -> psycopg2.extensions.connection:
    try:
        return psycopg2.connect(target.postgres_dsn, connect_timeout=10)
    except psycopg2.OperationalError as error:
        raise MartUnreachableError(
            f"PostgreSQL mart {target.location} is unreachable: {str(error).strip()}"
        ) from error


def open_duckdb(path: str, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """Opens the file, waiting with growing pauses while another process holds it."""
    deadline = time.monotonic() + wait_seconds
    pause = 0.1
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as error:
            holder = HOLDER.search(str(error))
            if holder is None:
                raise
            held_by = f"{holder[1]} (PID {holder[2]})"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MartBusyError(
                    f"mart {path} is held by {held_by} (DuckDB lets one process write a file,"
                    f" and none read it meanwhile); waited {wait_seconds:.0f} s. Close that"
                    " process's connection (a `dataplatform sql`, a notebook) and try again."
                ) from error
            logger.warning("mart %s is held by %s; trying again in %.1f s", path, held_by, pause)
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
