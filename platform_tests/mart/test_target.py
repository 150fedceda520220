"""Which database holds the mart, from one setting."""

import pytest

from dataplatform.mart.target import MartTarget, mart_target


def test_the_default_is_a_duckdb_file_in_the_data_dir() -> None:
    assert mart_target("", "/srv/data") == MartTarget(duckdb_path="/srv/data/mart.duckdb")


@pytest.mark.parametrize("url", ["/srv/mart.duckdb", "duckdb:///srv/mart.duckdb"])
def test_a_duckdb_file_elsewhere(url: str) -> None:
    assert mart_target(url, "/srv/data").duckdb_path == "/srv/mart.duckdb"


def test_a_postgres_url_names_its_schema_apart_from_the_connection() -> None:
    target = mart_target("postgresql://mart@db:5432/platform?schema=Mart&sslmode=require", "")

    assert target.is_postgres
    assert target.postgres_dsn == "postgresql://mart@db:5432/platform?sslmode=require"
    assert target.postgres_schema == "mart"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://mart:secret@db/platform", "PGPASSWORD"),
        ("postgresql:///platform", "with a host"),
        ("postgresql://db/platform?schema=a;drop", "plain SQL identifier"),
        ("s3://bucket/mart.duckdb", "DuckDB file path or a postgresql:// URL"),
    ],
)
def test_urls_that_are_refused_say_what_is_expected(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        mart_target(url, "")
