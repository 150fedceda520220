"""Quality assets: report, checks and assertions per partition; blocking checks stop training."""

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from datahub.lite.lite_util import get_datahub_lite

from dataplatform.catalog.assertions import assertion_urn
from dataplatform.catalog.sink import DataHubSink, SinkKind
from dataplatform.cleaning.tables import LISTENS, REVIEWS
from dataplatform.defs.quality.assets import (
    TRAINING_GUARDS,
    build_drift_asset,
    build_integrity_asset,
    landed_integrity_asset,
    quality_key,
)
from dataplatform.landing.datasets import REVIEWS as LANDED_REVIEWS
from dataplatform.partitions import daily_partitions
from dataplatform.quality.reports import ReportStore
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from platform_tests.quality import frames

DAY = "2026-03-04"
SOURCE = dg.AssetKey(["cleaned", "reviews"])
integrity = build_integrity_asset(SOURCE, daily_partitions, REVIEWS.key)
cleaned_reviews = dg.AssetSpec(SOURCE, partitions_def=daily_partitions)


@dg.asset(deps=[TRAINING_GUARDS[0]], partitions_def=daily_partitions, group_name="models")
def sentiment_training() -> pd.DataFrame:
    return pd.DataFrame({"trained": [True]})


def run_quality(data: Path, reviews: pd.DataFrame) -> dg.ExecuteInProcessResult:
    path = data / "cleaned" / "reviews" / f"{DAY}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    reviews.to_parquet(path)
    return dg.materialize(
        [cleaned_reviews, integrity, sentiment_training],
        selection=[integrity.key, sentiment_training.key],
        partition_key=DAY,
        resources={
            "io_manager": ParquetIOManager(base_path=str(data)),
            "quality_reports": ReportStore(base_path=str(data)),
            "datahub": DataHubSink(kind=SinkKind.LITE, lite_path=str(lite_path(data))),
        },
        raise_on_error=False,
    )


def check_results(result: dg.ExecuteInProcessResult) -> list[dg.AssetCheckEvaluation]:
    return [
        event.asset_check_evaluation_data
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]


def lite_path(data: Path) -> Path:
    return data / "catalog" / "datahub_lite.sqlite"


def test_clean_partition_reports_and_reaches_training(tmp_path: Path) -> None:
    result = run_quality(tmp_path, frames.reviews())

    assert result.success
    metadata = result.asset_materializations_for_node(integrity.op.name)[0].metadata
    assert metadata["checks_failed"].value == 0
    assert "checks passed" in metadata["summary"].value and "|" not in metadata["summary"].value
    # Its table holds failing conditions: none, and not a table of no rows in the UI.
    assert metadata["failing_conditions"].value == 0
    assert "dagster/row_count" not in metadata
    assert metadata["sample_rows"].value == frames.ROWS
    folder = tmp_path / "quality" / "cleaned" / "reviews"
    assert Path(metadata["report"].value) == folder / f"{DAY}.html"
    # The failing conditions under the asset's own key; the report under the table's.
    assert (tmp_path.joinpath(*quality_key(SOURCE).path) / f"{DAY}.parquet").exists()
    assert all(check.passed for check in check_results(result))
    assert result.asset_materializations_for_node("sentiment_training")


@pytest.fixture(scope="module")
def corrupted_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dg.ExecuteInProcessResult]:
    data = tmp_path_factory.mktemp("corrupted")
    return data, run_quality(data, frames.with_constant(frames.reviews(), "text"))


def test_corrupted_partition_fails_a_blocking_check_and_stops_training(
    corrupted_run: tuple[Path, dg.ExecuteInProcessResult],
) -> None:
    _, result = corrupted_run

    failed = {c.check_name: c.severity for c in check_results(result) if not c.passed}
    assert failed == {"is_single_value": dg.AssetCheckSeverity.ERROR}
    assert not result.asset_materializations_for_node("sentiment_training")
    metadata = result.asset_materializations_for_node(integrity.op.name)[0].metadata
    assert "is_single_value" in metadata["summary"].value
    assert metadata["failing_conditions"].value >= 1


def test_check_results_reach_datahub_as_assertions(
    corrupted_run: tuple[Path, dg.ExecuteInProcessResult],
) -> None:
    data, _ = corrupted_run
    sink = DataHubSink(kind=SinkKind.LITE, lite_path=str(lite_path(data)))
    lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(lite_path(data))}})
    try:
        failing = lite.get(assertion_urn(sink.naming, SOURCE, "is_single_value"), aspects=None)
        passing = lite.get(assertion_urn(sink.naming, SOURCE, "mixed_nulls"), aspects=None)
    finally:
        lite.close()
    assert failing["assertionInfo"]["customAssertion"]["entity"] == sink.naming.dataset_urn(SOURCE)
    assert failing["assertionInfo"]["customProperties"]["severity"] == "ERROR"
    assert failing["assertionRunEvent"]["result"]["type"] == "FAILURE"
    assert passing["assertionRunEvent"]["result"]["type"] == "SUCCESS"
    assert quality_key(SOURCE) == TRAINING_GUARDS[0]


listens_drift = build_drift_asset(LISTENS)
cleaned_listens = dg.AssetSpec(["cleaned", "listens"], partitions_def=daily_partitions)


def write_partition(data: Path, key: dg.AssetKey, partition: str, frame: pd.DataFrame) -> None:
    path = data.joinpath(*key.path, f"{partition}.parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)


def run_drift(data: Path, current: pd.DataFrame, reference_days: int) -> dg.ExecuteInProcessResult:
    for offset in range(1, reference_days + 1):
        day = (date.fromisoformat(DAY) - timedelta(days=offset)).isoformat()
        write_partition(data, cleaned_listens.key, day, frames.listens(seed=offset))
    write_partition(data, cleaned_listens.key, DAY, current)
    return dg.materialize(
        [cleaned_listens, listens_drift],
        selection=[listens_drift.key],
        partition_key=DAY,
        resources={
            "io_manager": ParquetIOManager(base_path=str(data)),
            "quality_reports": ReportStore(base_path=str(data)),
            "datahub": DataHubSink(kind=SinkKind.NONE),
        },
    )


def test_drift_asset_compares_with_previous_days_and_only_warns(tmp_path: Path) -> None:
    shifted = frames.shifted(frames.listens(seed=9), "ms_played", 1.6)

    result = run_drift(tmp_path, shifted, reference_days=3)

    assert result.success  # drift warns, it does not block
    failed = {c.check_name: c.severity for c in check_results(result) if not c.passed}
    assert failed.get("feature_drift") == dg.AssetCheckSeverity.WARN
    metadata = result.asset_materializations_for_node(listens_drift.op.name)[0].metadata
    assert metadata["reference_rows"].value == 3 * frames.ROWS
    assert (
        Path(metadata["report"].value).parent
        == tmp_path / "quality" / "drift" / "cleaned" / "listens"
    )


def test_drift_asset_without_reference_passes_without_report(tmp_path: Path) -> None:
    result = run_drift(tmp_path, frames.listens(seed=9), reference_days=0)

    assert all(check.passed for check in check_results(result))
    assert not (tmp_path / "quality" / "drift" / "cleaned" / "listens" / f"{DAY}.html").exists()


def test_landed_files_get_an_integrity_report_per_file(tmp_path: Path) -> None:
    landed = landed_integrity_asset(LANDED_REVIEWS)
    spec = dg.AssetSpec(LANDED_REVIEWS.key, partitions_def=LANDED_REVIEWS.partitions)
    partition = "reviews.csv-0123456789ab"
    rows = frames.reviews()[["text", "rating"]].assign(
        _source_file="reviews.csv", _row_number=range(frames.ROWS)
    )
    write_partition(tmp_path, LANDED_REVIEWS.key, partition, rows)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(LANDED_REVIEWS.partitions.name, [partition])
        result = dg.materialize(
            [spec, landed],
            selection=[landed.key],
            partition_key=partition,
            instance=instance,
            resources={
                "io_manager": ParquetIOManager(base_path=str(tmp_path)),
                "quality_reports": ReportStore(base_path=str(tmp_path)),
                "datahub": DataHubSink(kind=SinkKind.NONE),
            },
        )

    assert result.success
    assert (tmp_path / "quality" / "landed" / "reviews" / f"{partition}.html").exists()
