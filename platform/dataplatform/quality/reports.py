"""The core of every quality report: sample a table, run a deepchecks suite, save, summarise.

Large tables are sampled before deepchecks sees them: `ReportStore.sample_size` rows (default
10,000, drawn uniformly with a fixed seed so a rerun gives the same report). Deepchecks' cost
grows with rows, and 10,000 rows estimate shares, drift scores and duplicate ratios to within
about one percentage point; the metadata states the sample and the table size.

Deepchecks hashes values, and a list column's values (numpy arrays once read from Parquet)
cannot be hashed: such a column is judged as text, each list written `[12, 7, 30]` in its
own order (a playlist's order is data) and an empty one `[no items]` (deepchecks would count
`[]` as a value made only of special characters), so nulls, constant columns and duplicate
rows are still found; the metadata names these columns.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

import dagster as dg
import numpy as np
import pandas as pd
from upath import UPath

from dataplatform.quality.html import write_report

# deepchecks takes seconds to import and every step process loads the code location, so it is
# imported only where a suite runs (integrity, drift, model_evaluation).
if TYPE_CHECKING:
    from deepchecks.core import SuiteResult
    from deepchecks.core.check_result import BaseCheckResult

DEFAULT_SAMPLE_SIZE = 10_000
SAMPLE_SEED = 0
# A text column with more distinct values than this share of rows is free text or an id,
# not a category.
MAX_CATEGORY_SHARE = 0.5


@dataclass(frozen=True)
class ConditionOutcome:
    """One deepchecks condition that did not pass."""

    check: str  # snake_case check name, e.g. `percent_of_nulls`
    condition: str
    category: str  # deepchecks' own verdict: FAIL or WARN
    details: str


@dataclass(frozen=True)
class QualityReport:
    suite: str
    path: str
    checks_run: int
    checks_passed: int
    failures: tuple[ConditionOutcome, ...]
    not_run: tuple[tuple[str, str], ...]  # (check, why it did not run)
    sample_rows: int
    total_rows: int
    lists_as_text: tuple[str, ...] = ()  # list columns judged as their text, see above

    @property
    def failed_checks(self) -> set[str]:
        return {failure.check for failure in self.failures}

    def failures_of(self, check: str) -> list[ConditionOutcome]:
        return [failure for failure in self.failures if failure.check == check]


class ReportStore(dg.ConfigurableResource):
    """Where quality reports go (`<base_path>/quality/...`, next to the data) and how big a
    sample deepchecks sees."""

    base_path: str
    sample_size: int = DEFAULT_SAMPLE_SIZE
    storage_options: dict[str, str] | None = None
    # Where `root` is served over HTTP (`make dev`'s static server), so the UI links a report
    # it opens in one click: a browser does not follow a file path from a web page.
    base_url: str = ""

    @property
    def root(self) -> UPath:
        options: dict[str, Any] = self.storage_options or {}
        return UPath(self.base_path, **options) / "quality"

    def report_path(self, name: Sequence[str], partition: str | None) -> UPath:
        folder = self.root.joinpath(*name)
        return folder / f"{partition}.html" if partition else folder.with_suffix(".html")

    def save(
        self, result: "SuiteResult", name: Sequence[str], partition: str | None, title: str
    ) -> UPath:
        return write_report(result, self.report_path(name, partition), self.root, title)

    def links(self, path: str) -> dict[str, dg.MetadataValue]:
        """A saved report as metadata: its file, and its URL where the reports are served."""
        links: dict[str, dg.MetadataValue] = {"report": dg.MetadataValue.path(path)}
        if self.base_url:
            relative = UPath(path).relative_to(self.root).as_posix()
            links["report_url"] = dg.MetadataValue.url(f"{self.base_url}/{quote(relative)}")
        return links


def sample(frame: pd.DataFrame, size: int) -> pd.DataFrame:
    if len(frame) <= size:
        return frame
    return frame.sample(n=size, random_state=SAMPLE_SEED).sort_index()


def deepchecks_frame(frame: pd.DataFrame, exclude: Sequence[str] = ()) -> pd.DataFrame:
    """The columns deepchecks can judge, in numpy dtypes: nullable integers become floats,
    strings objects, timestamps seconds since the epoch."""
    kept = frame.drop(columns=[c for c in exclude if c in frame.columns])
    return cast(pd.DataFrame, kept.apply(_numpy_values))


def list_columns(frame: pd.DataFrame) -> list[str]:
    return [column for column in frame.columns if _holds_lists(cast(pd.Series, frame[column]))]


def _holds_lists(column: pd.Series) -> bool:
    return column.dtype == object and bool(column.map(_is_list, na_action="ignore").any())


def _is_list(value: object) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _list_text(values: Iterable[object]) -> str:
    return "[" + (", ".join(map(str, values)) or "no items") + "]"


def _numpy_values(column: pd.Series) -> pd.Series:
    if _holds_lists(column):
        return column.map(_list_text, na_action="ignore")
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return (column - pd.Timestamp(0, tz=column.dt.tz)).dt.total_seconds()
    if pd.api.types.is_extension_array_dtype(column.dtype):
        if pd.api.types.is_numeric_dtype(column.dtype):
            return column.astype("float64")
        return column.astype(object).where(column.notna(), np.nan)
    return column


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    """Text columns with few enough distinct values to be categories (not ids, not prose)."""
    limit = max(1, int(MAX_CATEGORY_SHARE * len(frame)))
    return [
        column
        for column in frame.columns
        if frame[column].dtype == object and frame[column].nunique(dropna=True) <= limit
    ]


def summarise(
    result: "SuiteResult",
    path: str,
    sample_rows: int,
    total_rows: int,
    lists_as_text: Sequence[str] = (),
) -> QualityReport:
    from deepchecks.core import CheckResult

    ran = [r for r in result.results if isinstance(r, CheckResult) and r.have_conditions()]
    failures = tuple(
        ConditionOutcome(
            check=_check_id(r),
            condition=condition.name,
            category=condition.category.name,
            details=str(condition.details),
        )
        for r in ran
        for condition in r.conditions_results
        if not condition.is_pass()
    )
    return QualityReport(
        suite=result.name,
        path=path,
        checks_run=len(ran),
        checks_passed=len(ran) - len({failure.check for failure in failures}),
        failures=failures,
        not_run=tuple((_check_id(r), str(r.exception)) for r in result.get_not_ran_checks()),
        sample_rows=sample_rows,
        total_rows=total_rows,
        lists_as_text=tuple(lists_as_text),
    )


def check_id(name: str) -> str:
    """`Percent Of Nulls` -> `percent_of_nulls`."""
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _check_id(result: "BaseCheckResult") -> str:
    assert result.check is not None  # a suite's results keep the check that produced them
    return check_id(result.check.name())


def summary_markdown(report: QualityReport) -> str:
    """The outcome in a line, then a table of the failing conditions if any failed."""
    sample = f"(sample of {report.sample_rows:,} of {report.total_rows:,} rows)"
    if not report.failures:
        return f"**{report.suite}**: all {report.checks_run} checks passed {sample}"
    lines = [
        f"**{report.suite}**: {report.checks_run} checks run, {report.checks_passed} passed,"
        f" {report.checks_run - report.checks_passed} failed {sample}",
        "",
        "| check | verdict | condition | value |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {f.check} | {f.category} | {f.condition} | {_cell(f.details)} |"
        for f in report.failures
    ]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def report_metadata(
    report: QualityReport, store: ReportStore
) -> dict[str, dg.MetadataValue | int | str]:
    metadata: dict[str, dg.MetadataValue | int | str] = {
        **store.links(report.path),
        "summary": dg.MetadataValue.md(summary_markdown(report)),
        "checks_run": report.checks_run,
        "checks_passed": report.checks_passed,
        "checks_failed": report.checks_run - report.checks_passed,
        "sample_rows": report.sample_rows,
        "total_rows": report.total_rows,
    }
    if report.lists_as_text:
        metadata["list_columns_judged_as_text"] = ", ".join(report.lists_as_text)
    return metadata


def summary_table(report: QualityReport) -> pd.DataFrame:
    """The failing conditions as rows, stored as the quality asset's Parquet output."""
    return pd.DataFrame(
        [vars(failure) for failure in report.failures],
        columns=["check", "condition", "category", "details"],  # pyright: ignore[reportArgumentType]  # pandas' SequenceNotStr rejects list
    ).astype("string")
