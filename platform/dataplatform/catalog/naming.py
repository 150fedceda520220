"""How Dagster assets, jobs and runs are named in DataHub (the documented URN mapping).

An asset key `["cleaned", "listens"]` is the dataset `cleaned.listens` on the configured
platform (default `dagster`) and environment (default `PROD`); the code location is one
DataFlow (`dagster`, `dataplatform`), and each asset's computation is a DataJob in it named
after the asset key. A Dagster run is a DataProcessInstance whose id is the run id.

A table the mart publishes is named as DataHub's own SQL sources name it, so that their
ingestion and ours meet on one dataset: `<database>.<schema>.<table>` on platform `duckdb`
(the database is the file's stem, DuckDB's catalog name, as dbt-duckdb reports it) or
`postgres` (the database of the connection URL).
"""

from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import urlsplit

import dagster as dg
from datahub.emitter.mce_builder import (
    make_data_flow_urn,
    make_data_job_urn_with_flow,
    make_data_platform_urn,
    make_dataset_urn,
)

from dataplatform.mart.duckdb_mart import SCHEMA as DUCKDB_SCHEMA
from dataplatform.mart.target import MartTarget

ORCHESTRATOR = "dagster"


@dataclass(frozen=True)
class SqlTable:
    """A table of a SQL database, on the DataHub platform of that database."""

    platform: str  # "duckdb" or "postgres"
    database: str
    schema: str
    table: str

    @property
    def name(self) -> str:
        return f"{self.database}.{self.schema}.{self.table}"


def mart_table(target: MartTarget, table: str) -> SqlTable:
    """The mart table `table` in the mart `target`."""
    if target.is_postgres:
        url = urlsplit(target.postgres_dsn)
        # Without a database in the URL, libpq connects to the one named after the user.
        database = url.path.lstrip("/") or url.username or "postgres"
        return SqlTable("postgres", database, target.postgres_schema, table)
    return SqlTable("duckdb", PurePath(target.duckdb_path).stem, DUCKDB_SCHEMA, table)


@dataclass(frozen=True)
class CatalogNaming:
    platform: str = "dagster"
    env: str = "PROD"
    flow_id: str = "dataplatform"
    ui_url: str = "http://127.0.0.1:3000"

    @property
    def platform_urn(self) -> str:
        return make_data_platform_urn(self.platform)

    @property
    def flow_urn(self) -> str:
        return make_data_flow_urn(ORCHESTRATOR, self.flow_id, self.env)

    def dataset_name(self, key: dg.AssetKey) -> str:
        return ".".join(key.path)

    def dataset_urn(self, key: dg.AssetKey) -> str:
        return make_dataset_urn(self.platform, self.dataset_name(key), self.env)

    def table_urn(self, table: SqlTable) -> str:
        return make_dataset_urn(table.platform, table.name, self.env)

    def job_urn(self, key: dg.AssetKey) -> str:
        return make_data_job_urn_with_flow(self.flow_urn, self.dataset_name(key))

    def asset_url(self, key: dg.AssetKey) -> str:
        return f"{self.ui_url}/assets/{'/'.join(key.path)}"

    def run_url(self, run_id: str) -> str:
        return f"{self.ui_url}/runs/{run_id}"
