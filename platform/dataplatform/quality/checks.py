"""Deepchecks conditions as Dagster asset checks: which ones warn and which ones block.

Each deepchecks check listed below becomes one asset check of the quality asset, named after
it; it fails when any of its conditions did not pass, with the failing values in metadata.

| check | severity | blocks | why |
|---|---|---|---|
| `is_single_value` | ERROR | yes | a constant column: a feed stuck on one value |
| `mixed_data_types` | ERROR | yes | numbers and strings in one column: a parse broke |
| `percent_of_nulls` (<= 20%) | ERROR | yes | a model would train on imputed values |
| `mixed_nulls` | WARN | no | several spellings of null deserve a cleaning rule |
| `special_characters`, `string_*` | WARN | no | dirty text is worth a look, not a halt |
| `data_duplicates` (<= 5%) | WARN | no | cleaning already drops exact duplicates |
| `feature_feature_correlation` | WARN | no | redundancy, not corruption |
| drift: `*_drift` | WARN | no | a reason to look, maybe retrain; not to refuse a day |
| drift: every other check | WARN | no | new values and volume changes happen in real life |

A deepchecks check that did not run (e.g. no text column for the string checks) passes, with
the reason in its metadata. Blocking checks stop bad data before training: Dagster skips
everything downstream of an asset whose blocking check failed, in the same run, so the
training assets declare a dependency on the integrity asset of the table they read
(`quality/cleaned_reviews_report`, `quality/landed_reviews_report`); see
`assets.TRAINING_GUARDS`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import dagster as dg

from dataplatform.quality.reports import QualityReport


@dataclass(frozen=True)
class QualityCheck:
    name: str  # the deepchecks check, snake_case
    description: str
    blocking: bool = False

    @property
    def severity(self) -> dg.AssetCheckSeverity:
        return dg.AssetCheckSeverity.ERROR if self.blocking else dg.AssetCheckSeverity.WARN


INTEGRITY_CHECKS = (
    QualityCheck("is_single_value", "No column holds a single value.", blocking=True),
    QualityCheck("mixed_data_types", "No column mixes numbers and strings.", blocking=True),
    QualityCheck("percent_of_nulls", "No column is more than 20% null.", blocking=True),
    QualityCheck("mixed_nulls", "At most one kind of null per column."),
    QualityCheck("special_characters", "Few values made only of special characters."),
    QualityCheck("string_mismatch", "No variants of the same string (case, punctuation)."),
    QualityCheck("string_length_out_of_bounds", "No outlying string lengths."),
    QualityCheck("data_duplicates", "At most 5% duplicate rows."),
    QualityCheck("feature_feature_correlation", "No pair of columns correlated above 0.9."),
)
DRIFT_CHECKS = (
    QualityCheck("feature_drift", "No column's distribution drifted from the reference."),
    QualityCheck("label_drift", "The label's distribution did not drift."),
    QualityCheck(
        "multivariate_drift", "The rows as a whole are not told apart from the reference."
    ),
    QualityCheck("new_category_train_test", "Few category values unseen in the reference."),
    QualityCheck("new_label_train_test", "No label value unseen in the reference."),
    QualityCheck("string_mismatch_comparison", "No new variants of reference strings."),
    QualityCheck(
        "datasets_size_comparison", "The new partition is not tiny next to the reference."
    ),
)


def check_specs(checks: Sequence[QualityCheck], asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            check.name, asset=asset_key, description=check.description, blocking=check.blocking
        )
        for check in checks
    ]


def check_results(
    report: QualityReport,
    checks: Sequence[QualityCheck],
    links: Mapping[str, dg.MetadataValue] | None = None,
) -> list[dg.AssetCheckResult]:
    """Each check's result on `report`, with `links` to it (default: its file)."""
    links = links or {"report": dg.MetadataValue.path(report.path)}
    return [check_result(report, check, links) for check in checks]


def check_result(
    report: QualityReport, check: QualityCheck, links: Mapping[str, dg.MetadataValue]
) -> dg.AssetCheckResult:
    failures = report.failures_of(check.name)
    not_run = [reason for name, reason in report.not_run if name == check.name]
    metadata: dict[str, dg.MetadataValue | str] = {**links}
    if failures:
        metadata["failing_conditions"] = dg.MetadataValue.md(
            "\n".join(f"- {f.condition} ({f.category}): {f.details}" for f in failures)
        )
    if not_run:
        metadata["not_run"] = not_run[0]
    return dg.AssetCheckResult(
        check_name=check.name, passed=not failures, severity=check.severity, metadata=metadata
    )


def passed_without_report(checks: Sequence[QualityCheck], reason: str) -> list[dg.AssetCheckResult]:
    """Results when there was nothing to compare (e.g. no reference partition yet)."""
    return [
        dg.AssetCheckResult(
            check_name=check.name,
            passed=True,
            severity=check.severity,
            metadata={"not_run": reason},
        )
        for check in checks
    ]
