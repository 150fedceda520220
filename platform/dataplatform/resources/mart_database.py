"""The data mart's database as a resource: dagster-duckdb's DuckDB file, or PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import psycopg2
from dagster_duckdb import DuckDBResource

from dataplatform.mart.duckdb_mart import DuckDBMart
from dataplatform.mart.postgres_mart import PostgresMart
from dataplatform.mart.publish import MartConnection
from dataplatform.mart.target import DEFAULT_POSTGRES_SCHEMA, MartTarget


class MartDatabase(dg.ConfigurableResource):
    """Exactly one of `duckdb` (the embedded default) and `postgres_dsn` (production) is set.

    The DuckDB connection retries while another process holds the file (dagster-duckdb backs
    off for about 100 s); a Postgres password comes from PGPASSWORD, never from this config.
    """

    duckdb: DuckDBResource | None = None
    postgres_dsn: str = ""
    postgres_schema: str = DEFAULT_POSTGRES_SCHEMA

    @classmethod
    def for_target(cls, target: MartTarget) -> "MartDatabase":
        if target.is_postgres:
            return cls(postgres_dsn=target.postgres_dsn, postgres_schema=target.postgres_schema)
        return cls(duckdb=DuckDBResource(database=target.duckdb_path))

    @property
    def target(self) -> MartTarget:
        if self.postgres_dsn:
            return MartTarget(postgres_dsn=self.postgres_dsn, postgres_schema=self.postgres_schema)
        if self.duckdb is None:
            raise ValueError("MartDatabase: set either duckdb or postgres_dsn")
        return MartTarget(duckdb_path=self.duckdb.database)

    @contextmanager
    def connect(self) -> Iterator[MartConnection]:
        target = self.target
        if target.is_postgres:
            connection = psycopg2.connect(target.postgres_dsn, connect_timeout=10)
            try:
                yield PostgresMart(connection, target.postgres_schema, target.location)
            finally:
                connection.close()
            return
        assert self.duckdb is not None
        Path(target.duckdb_path).parent.mkdir(parents=True, exist_ok=True)
        with self.duckdb.get_connection() as connection:
            try:
                yield DuckDBMart(connection, target.location)
            finally:
                connection.close()  # dagster-duckdb closes only when the block succeeds
