"""Pipeline health figures match the runs this test executed, a failed one included."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from dataplatform.defs.quality.pipeline_health import pipeline_health
from dataplatform.quality.health import pipeline_health_figures
from dataplatform.quality.reports import ReportStore
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from platform_tests.quality.runs import ROWS, exploding, guarded, songs


def execute_runs(instance: dg.DagsterInstance, data: Path) -> None:
    resources = {"io_manager": ParquetIOManager(base_path=str(data))}
    for _ in range(2):
        dg.materialize([songs], instance=instance, resources=resources)
    for failing in (exploding, guarded):
        dg.materialize([failing], instance=instance, resources=resources, raise_on_error=False)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        execute_runs(instance, tmp_path_factory.mktemp("data"))
        yield instance


def test_health_figures_match_the_executed_runs(instance: dg.DagsterInstance) -> None:
    now = datetime.now(UTC)
    health = pipeline_health_figures(instance, now - timedelta(hours=1), now)

    assert len(health.todays_runs) == 4
    assert health.success_rate == 0.5
    assets = health.assets.set_index("asset")
    assert assets.loc["songs", "rows_today"] == 2 * ROWS
    assert assets.loc["songs", "rows_daily_mean_before"] == 0
    assert 0 <= assets.loc["songs", "hours_since_materialization"] < 1
    assert health.failed_checks[["asset", "check", "blocking"]].values.tolist() == [
        ["guarded", "not_empty", True]
    ]
    assert set(health.steps["step"]) == {"songs", "exploding", "guarded"}
    assert (health.steps["today_mean_s"] > 0).all()


def test_runs_before_the_window_are_history(instance: dg.DagsterInstance) -> None:
    later = datetime.now(UTC) + timedelta(days=1)
    health = pipeline_health_figures(instance, later - timedelta(hours=1), later)

    assert health.todays_runs.empty
    assert health.success_rate is None
    songs_row = health.assets.set_index("asset").loc["songs"]
    assert songs_row["rows_today"] == 0
    assert songs_row["rows_daily_mean_before"] == 2 * ROWS / 7


def test_pipeline_health_asset_writes_table_and_report(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    result = dg.materialize(
        [pipeline_health],
        instance=instance,
        partition_key=day,
        resources={
            "io_manager": ParquetIOManager(base_path=str(tmp_path)),
            "quality_reports": ReportStore(base_path=str(tmp_path)),
        },
    )

    metadata = result.asset_materializations_for_node("quality__pipeline_health")[0].metadata
    assert metadata["runs"].value == 0  # today's runs belong to today's partition
    report = Path(metadata["report"].value)
    assert report == tmp_path / "quality" / "pipeline_health" / f"{day}.html"
    assert "data:image/png;base64," in report.read_text()
    assert (tmp_path / "quality" / "pipeline_health" / f"{day}.parquet").exists()
