"""A model asset's evaluation as asset checks: seen on the asset in the UI, beside its metadata.

`evaluation_sound` (ERROR) fails exactly when the registry refused the promotion because the
evaluation cannot be trusted (see `registry.Promotion.unsound`), so a promoted version never has
a failed ERROR check; `beats_baseline` (WARN) fails when the version learnt too little to be
promoted; `evaluation_passed` (WARN) shows a deepchecks report's failed conditions.
A skipped training repeats the checks of the version it kept, from that version's tags.
"""

from collections.abc import Mapping

import dagster as dg

from dataplatform.models.registry import Promotion

BEATS_BASELINE = "beats_baseline"
EVALUATION_SOUND = "evaluation_sound"
EVALUATION_PASSED = "evaluation_passed"
EVALUATION_FAILURES = "evaluation_failed_checks"  # a version's tag: its failed report checks


def promotion_check_specs(key: dg.AssetKey, unit: str, minimum: int) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            BEATS_BASELINE,
            asset=key,
            description="The trained model beats what a model that learnt nothing scores; if"
            " not, it was registered but not promoted (WARN).",
        ),
        dg.AssetCheckSpec(
            EVALUATION_SOUND,
            asset=key,
            description=f"The evaluation has finite scores from at least {minimum} {unit};"
            " if not, promotion was stopped (ERROR).",
        ),
    ]


def promotion_checks(promotion: Promotion) -> list[dg.AssetCheckResult]:
    baseline = promotion.baseline
    version = {"model_version": promotion.version}
    size = {} if promotion.evaluation is None else {"evaluated": promotion.evaluation.count}
    return [
        dg.AssetCheckResult(
            check_name=BEATS_BASELINE,
            passed=baseline.beaten,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                **version,
                "baseline": baseline.name,
                "baseline_score": baseline.score,
                "challenger_score": baseline.challenger_score,
            },
        ),
        dg.AssetCheckResult(
            check_name=EVALUATION_SOUND,
            passed=promotion.unsound is None,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={**version, **size, "unsound": promotion.unsound or "none"},
        ),
    ]


EVALUATION_PASSED_SPEC_DESCRIPTION = (
    "The deepchecks model-evaluation report of the trained model has no failed condition"
    " (WARN: read the report; promotion does not depend on it)."
)


def evaluation_passed(
    version: str, failed: int, report_links: Mapping[str, dg.MetadataValue]
) -> dg.AssetCheckResult:
    """The deepchecks model-evaluation report's failed conditions, as a WARN."""
    return dg.AssetCheckResult(
        check_name=EVALUATION_PASSED,
        passed=failed == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"model_version": version, "failed_checks": failed, **report_links},
    )


def recorded_checks(
    version: str, tags: Mapping[str, str], names: list[str]
) -> list[dg.AssetCheckResult]:
    """The checks `names` as the version's decision tags record them (a tag that was never
    recorded passes, saying so), for a training skipped in favour of that version."""
    found = {
        BEATS_BASELINE: _baseline_beaten(tags),
        EVALUATION_SOUND: tags.get("evaluation_unsound", "none") == "none",
        EVALUATION_PASSED: tags.get(EVALUATION_FAILURES, "0") == "0",
    }
    severity = {EVALUATION_SOUND: dg.AssetCheckSeverity.ERROR}
    return [
        dg.AssetCheckResult(
            check_name=name,
            passed=found[name] is not False,
            severity=severity.get(name, dg.AssetCheckSeverity.WARN),
            metadata={"model_version": version, "recorded": found[name] is not None},
        )
        for name in names
    ]


def _baseline_beaten(tags: Mapping[str, str]) -> bool | None:
    if "baseline_score" not in tags or "challenger_baseline_metric_score" not in tags:
        return None
    return float(tags["challenger_baseline_metric_score"]) > float(tags["baseline_score"])
