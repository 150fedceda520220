"""`dataplatform sql` on a published mart: DuckDB by default, PostgreSQL when configured."""

from pathlib import Path

import pytest
from platform_tests.mart.conftest import DAY_1, DAY_2, postgres_target

from dataplatform.cli.app import main
from dataplatform.cli.errors import EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE
from dataplatform.mart.connection import connect
from dataplatform.mart.days import read_day, source_path
from dataplatform.mart.publish import publish_day
from dataplatform.mart.tables import MART_TABLES
from dataplatform.mart.target import MartTarget

CURRENT_CITIES = "SELECT user_id, city FROM users_current ORDER BY user_id"


def publish_history(history: Path, target: MartTarget) -> None:
    for day in (DAY_1, DAY_2):
        rows = {t: read_day(source_path(str(history), t, day), t, day) for t in MART_TABLES}
        with connect(target) as mart:
            publish_day(mart, day, rows)


@pytest.fixture
def duckdb_mart(history: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default mart: data/mart.duckdb in the data dir, two days published."""
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(history))
    monkeypatch.delenv("DATAPLATFORM_MART_URL", raising=False)
    publish_history(history, MartTarget(duckdb_path=str(history / "mart.duckdb")))
    return history / "mart.duckdb"


def test_sql_prints_the_rows_of_a_query_on_the_default_mart(
    duckdb_mart: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", CURRENT_CITIES]) == EXIT_OK

    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines() if "│" in line]
    assert lines == [["1", "│", "Lyon"], ["2", "│", "Nice"], ["3", "│", "Oslo"], ["4", "│", "Rome"]]
    assert "4 rows" in out


def test_sql_as_csv(duckdb_mart: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["sql", "--csv", "SELECT day, count(*) AS n FROM listens GROUP BY 1 ORDER BY 1"]) == 0
    )

    assert capsys.readouterr().out.splitlines() == ["day,n", f"{DAY_1},2", f"{DAY_2},2"]


def test_sql_is_read_only(duckdb_mart: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "DELETE FROM listens"]) == EXIT_RUN_FAILED

    assert "read-only" in capsys.readouterr().err
    assert main(["sql", "--csv", "SELECT count(*) AS n FROM listens"]) == EXIT_OK
    assert capsys.readouterr().out.splitlines() == ["n", "4"]


def test_sql_before_any_day_is_published_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATAPLATFORM_MART_URL", raising=False)

    assert main(["sql", "SELECT 1"]) == EXIT_USAGE

    assert "run the daily refresh" in capsys.readouterr().err


def test_sql_on_the_postgres_mart(
    history: Path,
    postgres_schema: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = postgres_target(postgres_schema)
    publish_history(history, target)
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(history))
    monkeypatch.setenv("DATAPLATFORM_MART_URL", f"{target.postgres_dsn}?schema={postgres_schema}")

    query = f"SELECT user_id, city FROM {postgres_schema}.users_current ORDER BY user_id"
    assert main(["sql", "--csv", query]) == EXIT_OK

    assert capsys.readouterr().out.splitlines() == [
        "user_id,city",
        "1,Lyon",
        "2,Nice",
        "3,Oslo",
        "4,Rome",
    ]
