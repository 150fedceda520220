"""Integrity and drift reports: clean data passes, each corruption fails the right check."""

from pathlib import Path

import pytest

from dataplatform.quality.checks import DRIFT_CHECKS, INTEGRITY_CHECKS, check_results
from dataplatform.quality.drift import drift_report
from dataplatform.quality.html import SHARED_PLOTLY
from dataplatform.quality.integrity import integrity_report
from dataplatform.quality.reports import (
    ConditionOutcome,
    QualityReport,
    ReportStore,
    summary_markdown,
)
from platform_tests.quality import frames

DAY = "2026-03-04"
NAME = ("cleaned", "listens")


def integrity(tmp_path: Path, frame, **store: object) -> QualityReport:
    return integrity_report(
        frame, ReportStore(base_path=str(tmp_path), **store), NAME, DAY, exclude=["listen_id"]
    )


def failed(report: QualityReport, checks=INTEGRITY_CHECKS) -> dict[str, str]:
    return {r.check_name: r.severity.value for r in check_results(report, checks) if not r.passed}


def test_clean_data_passes_every_mapped_check(tmp_path: Path) -> None:
    report = integrity(tmp_path, frames.listens())

    assert failed(report) == {}
    assert report.checks_run >= len(INTEGRITY_CHECKS)
    assert (report.sample_rows, report.total_rows) == (frames.ROWS, frames.ROWS)


@pytest.mark.parametrize(
    ("corrupt", "check"),
    [
        (lambda f: frames.with_nulls(f, "ms_played", 0.4), "percent_of_nulls"),
        (lambda f: frames.with_constant(f, "device"), "is_single_value"),
        (lambda f: frames.with_mixed_types(f, "ms_played"), "mixed_data_types"),
    ],
    ids=["nulls", "constant", "mixed_types"],
)
def test_corruption_fails_its_blocking_check(tmp_path: Path, corrupt, check: str) -> None:
    report = integrity(tmp_path, corrupt(frames.listens()))

    assert failed(report) == {check: "ERROR"}
    assert report.failures_of(check)[0].details


def test_report_is_compact_and_loads_the_shared_plotly(tmp_path: Path) -> None:
    report = integrity(tmp_path, frames.with_nulls(frames.listens(), "ms_played", 0.4))

    html = Path(report.path)
    assert html == tmp_path / "quality" / "cleaned" / "listens" / f"{DAY}.html"
    assert html.stat().st_size < 1_000_000
    assert f'src="../../{SHARED_PLOTLY}"' in html.read_text()
    shared = tmp_path / "quality" / SHARED_PLOTLY
    assert shared.stat().st_size > 1_000_000  # the library itself, written once
    assert (html.parent / "../.." / SHARED_PLOTLY).resolve() == shared


def test_large_tables_are_sampled(tmp_path: Path) -> None:
    report = integrity(tmp_path, frames.listens(rows=1_000), sample_size=200)

    assert (report.sample_rows, report.total_rows) == (200, 1_000)


def drift(tmp_path: Path, current) -> QualityReport:
    store = ReportStore(base_path=str(tmp_path))
    reference = frames.listens(seed=1)
    return drift_report(
        reference, current, store, ("drift", *NAME), DAY, exclude=["listen_id", "user_id"]
    )


def test_drift_detected_on_a_shifted_partition(tmp_path: Path) -> None:
    report = drift(tmp_path, frames.shifted(frames.listens(seed=2), "ms_played", 1.6))

    assert failed(report, DRIFT_CHECKS).get("feature_drift") == "WARN"


def test_no_drift_on_an_unshifted_partition(tmp_path: Path) -> None:
    report = drift(tmp_path, frames.listens(seed=2))

    assert "feature_drift" not in failed(report, DRIFT_CHECKS)
    assert "multivariate_drift" not in failed(report, DRIFT_CHECKS)


def test_a_served_report_is_linked_by_its_url_beside_its_file(tmp_path: Path) -> None:
    served = ReportStore(base_path=str(tmp_path), base_url="http://127.0.0.1:8766")
    report = served.report_path(NAME, DAY)

    links = served.links(str(report))

    assert links["report"].value == str(report)
    assert links["report_url"].value == f"http://127.0.0.1:8766/cleaned/listens/{DAY}.html"
    assert ReportStore(base_path=str(tmp_path)).links(str(report)).keys() == {"report"}


def summarised(*failures: ConditionOutcome) -> QualityReport:
    return QualityReport(
        suite="Data Integrity",
        path="report.html",
        checks_run=8,
        checks_passed=8 - len({failure.check for failure in failures}),
        failures=failures,
        not_run=(),
        sample_rows=1_500,
        total_rows=1_500,
    )


def test_a_passing_report_is_summarised_in_a_line_without_an_empty_table() -> None:
    summary = summary_markdown(summarised())

    assert summary == "**Data Integrity**: all 8 checks passed (sample of 1,500 of 1,500 rows)"


def test_a_failing_report_is_summarised_with_its_failing_conditions() -> None:
    nulls = ConditionOutcome("percent_of_nulls", "Nulls <= 5%", "FAIL", "Found 40% | nulls")

    lines = summary_markdown(summarised(nulls)).splitlines()

    assert lines[0].startswith("**Data Integrity**: 8 checks run, 7 passed, 1 failed")
    assert lines[-1] == r"| percent_of_nulls | FAIL | Nulls <= 5% | Found 40% \| nulls |"
