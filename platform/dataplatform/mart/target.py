"""Where the mart is, from one setting: a DuckDB file by default, PostgreSQL in production.

`DATAPLATFORM_MART_URL` is empty (the DuckDB file `<data dir>/mart.duckdb`), a DuckDB file path
(`duckdb:///abs/path.duckdb` or a plain path), or `postgresql://user@host:port/db?schema=mart`.
A Postgres password is never part of the URL: libpq reads it from PGPASSWORD or ~/.pgpass.
"""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgresql", "postgres")
DEFAULT_POSTGRES_SCHEMA = "mart"
DUCKDB_FILE = "mart.duckdb"


@dataclass(frozen=True)
class MartTarget:
    duckdb_path: str = ""  # set for DuckDB
    postgres_dsn: str = ""  # set for PostgreSQL: a libpq URL without the schema parameter
    postgres_schema: str = DEFAULT_POSTGRES_SCHEMA

    @property
    def is_postgres(self) -> bool:
        return bool(self.postgres_dsn)

    @property
    def location(self) -> str:
        if self.is_postgres:
            return f"{self.postgres_dsn} (schema {self.postgres_schema})"
        return self.duckdb_path


def mart_target(url: str, data_dir: str) -> MartTarget:
    """The mart of `url` (the setting; empty for the default in `data_dir`). Raises
    ValueError with what is expected when `url` is not accepted."""
    if not url:
        return MartTarget(duckdb_path=str(Path(data_dir) / DUCKDB_FILE))
    parts = urlsplit(url)
    if parts.scheme in POSTGRES_SCHEMES:
        if not parts.hostname:
            raise ValueError("expected postgresql://user@host:port/database, with a host")
        if parts.password:
            raise ValueError("a password does not belong in the URL: set PGPASSWORD instead")
        query = dict(parse_qsl(parts.query))
        schema = query.pop("schema", DEFAULT_POSTGRES_SCHEMA)
        if not schema.isidentifier():
            raise ValueError(f"schema {schema!r}: expected a plain SQL identifier")
        dsn = urlunsplit(parts._replace(query=urlencode(query)))
        return MartTarget(postgres_dsn=dsn, postgres_schema=schema.lower())
    if parts.scheme == "duckdb":
        return MartTarget(duckdb_path=parts.path)
    if parts.scheme and len(parts.scheme) > 1:  # a one-letter scheme is a Windows drive
        raise ValueError("expected a DuckDB file path or a postgresql:// URL")
    return MartTarget(duckdb_path=url)
