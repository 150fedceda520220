"""Reach the real local services; skip when one is absent, but fail under CI=true."""

import os
from typing import NoReturn

import psycopg2
import pytest

POSTGRES_URL = os.getenv(
    "DATAPLATFORM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def service_unavailable(reason: str) -> NoReturn:
    if os.getenv("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: a required service must be running)")
    pytest.skip(reason)


def session_database_name(base: str) -> str:
    """`base` made this test process's own: two sessions (or two pytest-xdist workers) running
    the same test at once must not drop each other's database."""
    return f"{base}_{os.getpid()}"


def fresh_postgres_database(name: str) -> str:
    """Drop and create database `name`; return its SQLAlchemy URL."""
    try:
        connection = psycopg2.connect(POSTGRES_URL, connect_timeout=3)
    except psycopg2.OperationalError as error:
        service_unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    # SQLAlchemy 2.1 defaults postgresql:// to psycopg 3; dagster-postgres ships psycopg2.
    server = POSTGRES_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://")
    return f"{server}/{name}"


def drop_postgres_database(name: str) -> None:
    connection = psycopg2.connect(POSTGRES_URL, connect_timeout=3)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()
