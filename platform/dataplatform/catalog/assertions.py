"""Asset-check results as DataHub assertions, with one run event per evaluation.

Each (asset, check) pair is one assertion (`urn:li:assertion:<guid of platform, dataset,
check>`), a custom assertion on the asset's dataset whose info carries the check's
description and severity; every evaluation adds an `assertionRunEvent` (SUCCESS or FAILURE,
the run id, the partition), so the catalog shows data quality next to lineage.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import dagster as dg
import datahub.metadata.schema_classes as dh
from datahub.emitter.mce_builder import datahub_guid, make_assertion_urn
from datahub.emitter.mcp import MetadataChangeProposalWrapper

from dataplatform.catalog.naming import ORCHESTRATOR, CatalogNaming

MCP = MetadataChangeProposalWrapper


@dataclass(frozen=True)
class CheckRun:
    """One evaluation of an asset check."""

    asset_key: dg.AssetKey
    check_name: str
    passed: bool
    severity: str  # "ERROR" or "WARN"
    run_id: str
    evaluated_at: datetime
    description: str = ""
    partition: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)
    dataset: str | None = None  # the judged dataset's URN, when not the asset's own name

    def dataset_urn(self, naming: CatalogNaming) -> str:
        return self.dataset or naming.dataset_urn(self.asset_key)


def check_runs(
    results: list[dg.AssetCheckResult],
    asset_key: dg.AssetKey,
    run_id: str,
    evaluated_at: datetime,
    partition: str | None = None,
    descriptions: Mapping[str, str] | None = None,
    dataset: str | None = None,
) -> list[CheckRun]:
    return [
        CheckRun(
            asset_key=asset_key,
            check_name=result.check_name or "",
            passed=result.passed,
            severity=result.severity.value,
            run_id=run_id,
            evaluated_at=evaluated_at,
            description=(descriptions or {}).get(result.check_name or "", ""),
            partition=partition,
            details={k: str(v.value) for k, v in result.metadata.items()},
            dataset=dataset,
        )
        for result in results
    ]


def assertion_urn(
    naming: CatalogNaming, asset_key: dg.AssetKey, check_name: str, dataset: str | None = None
) -> str:
    dataset = dataset or naming.dataset_urn(asset_key)
    return make_assertion_urn(datahub_guid({"dataset": dataset, "check": check_name}))


def assertion_mcps(run: CheckRun, naming: CatalogNaming) -> list[MCP]:
    dataset = run.dataset_urn(naming)
    urn = assertion_urn(naming, run.asset_key, run.check_name, dataset)
    return [
        MCP(entityUrn=urn, aspect=_info(run, dataset, naming)),
        MCP(entityUrn=urn, aspect=_run_event(run, urn, dataset)),
    ]


def _info(run: CheckRun, dataset: str, naming: CatalogNaming) -> dh.AssertionInfoClass:
    return dh.AssertionInfoClass(
        type=dh.AssertionTypeClass.CUSTOM,
        description=run.description or run.check_name,
        customAssertion=dh.CustomAssertionInfoClass(
            type="dagster_asset_check", entity=dataset, logic=run.check_name
        ),
        customProperties={"check_name": run.check_name, "severity": run.severity},
        externalUrl=naming.asset_url(run.asset_key),
        source=dh.AssertionSourceClass(type=dh.AssertionSourceTypeClass.EXTERNAL),
        entityUrn=dataset,
    )


def _run_event(run: CheckRun, urn: str, dataset: str) -> dh.AssertionRunEventClass:
    outcome = (
        dh.AssertionResultTypeClass.SUCCESS if run.passed else dh.AssertionResultTypeClass.FAILURE
    )
    return dh.AssertionRunEventClass(
        timestampMillis=int(run.evaluated_at.timestamp() * 1000),
        runId=run.run_id,
        asserteeUrn=dataset,
        assertionUrn=urn,
        status=dh.AssertionRunStatusClass.COMPLETE,
        result=dh.AssertionResultClass(type=outcome, nativeResults=dict(run.details)),
        runtimeContext={"orchestrator": ORCHESTRATOR, "severity": run.severity},
        partitionSpec=dh.PartitionSpecClass(partition=run.partition or "FULL_TABLE_SNAPSHOT"),
    )
