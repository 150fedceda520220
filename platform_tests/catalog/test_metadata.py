"""From what the platform did to DataHub metadata: URNs, schemas, profiles, lineage, runs."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import dagster as dg
import datahub.metadata.schema_classes as dh
import pyarrow as pa
import pytest

from dataplatform.catalog.metadata import FinishedRun, dataset_mcps, run_mcps
from dataplatform.catalog.naming import CatalogNaming
from dataplatform.catalog.profile import profile_table
from platform_tests.written_tables import (
    LISTENS,
    RAW_LISTENS,
    USERS,
    WRITTEN_AT,
    listens_table,
    written_listens,
)

LISTENS_URN = "urn:li:dataset:(urn:li:dataPlatform:dagster,cleaned.listens,PROD)"
FLOW_URN = "urn:li:dataFlow:(dagster,dataplatform,PROD)"


def aspects_of(mcps: list, urn: str) -> dict[str, object]:
    return {mcp.aspectName: mcp.aspect for mcp in mcps if mcp.entityUrn == urn}


def test_asset_keys_map_to_the_documented_dataset_flow_and_job_urns() -> None:
    naming = CatalogNaming()

    assert naming.dataset_urn(LISTENS) == LISTENS_URN
    assert naming.dataset_urn(dg.AssetKey("users")) == (
        "urn:li:dataset:(urn:li:dataPlatform:dagster,users,PROD)"
    )
    assert naming.flow_urn == FLOW_URN
    assert naming.job_urn(LISTENS) == f"urn:li:dataJob:({FLOW_URN},cleaned.listens)"
    assert naming.asset_url(LISTENS) == "http://127.0.0.1:3000/assets/cleaned/listens"
    assert naming.run_url("abc") == "http://127.0.0.1:3000/runs/abc"


def test_platform_and_environment_are_configurable_and_used_by_every_urn() -> None:
    naming = CatalogNaming(platform="s3", env="DEV", ui_url="https://dagster.example")

    assert (
        naming.dataset_urn(LISTENS) == "urn:li:dataset:(urn:li:dataPlatform:s3,cleaned.listens,DEV)"
    )
    assert naming.flow_urn == "urn:li:dataFlow:(dagster,dataplatform,DEV)"
    assert naming.job_urn(LISTENS).startswith("urn:li:dataJob:(urn:li:dataFlow:(dagster,")

    mcps = dataset_mcps(written_listens(), naming)
    urns = {mcp.entityUrn for mcp in mcps}
    assert urns == {naming.dataset_urn(LISTENS), naming.flow_urn, naming.job_urn(LISTENS)}
    aspects = aspects_of(mcps, naming.dataset_urn(LISTENS))
    assert aspects["schemaMetadata"].platform == "urn:li:dataPlatform:s3"
    assert {u.dataset for u in aspects["upstreamLineage"].upstreams} == {
        "urn:li:dataset:(urn:li:dataPlatform:s3,raw.listen_history,DEV)",
        "urn:li:dataset:(urn:li:dataPlatform:s3,cleaned.users,DEV)",
    }
    assert aspects["datasetProperties"].externalUrl == (
        "https://dagster.example/assets/cleaned/listens"
    )


@pytest.mark.parametrize(
    ("arrow_type", "datahub_type"),
    [
        (pa.int8(), dh.NumberTypeClass),
        (pa.int64(), dh.NumberTypeClass),
        (pa.uint32(), dh.NumberTypeClass),
        (pa.float32(), dh.NumberTypeClass),
        (pa.float64(), dh.NumberTypeClass),
        (pa.decimal128(10, 2), dh.NumberTypeClass),
        (pa.string(), dh.StringTypeClass),
        (pa.large_string(), dh.StringTypeClass),
        (pa.timestamp("us", tz="UTC"), dh.TimeTypeClass),
        (pa.timestamp("ns"), dh.TimeTypeClass),
        (pa.date32(), dh.DateTypeClass),
        (pa.date64(), dh.DateTypeClass),
        (pa.bool_(), dh.BooleanTypeClass),
        (pa.list_(pa.string()), dh.ArrayTypeClass),
        (pa.struct([("a", pa.int64())]), dh.RecordTypeClass),
        (pa.map_(pa.string(), pa.int64()), dh.RecordTypeClass),
        (pa.binary(), dh.BytesTypeClass),
    ],
    ids=str,
)
def test_schema_field_types_follow_the_arrow_types(
    arrow_type: pa.DataType, datahub_type: type
) -> None:
    table = pa.table({"value": pa.array([], arrow_type)})
    written = written_listens(table=table)

    schema = aspects_of(dataset_mcps(written, CatalogNaming()), LISTENS_URN)["schemaMetadata"]

    [field] = schema.fields
    assert field.fieldPath == "value"
    assert type(field.type.type) is datahub_type
    assert field.nativeDataType == str(arrow_type)


def test_schema_lists_every_column_in_order_with_nullability() -> None:
    mcps = dataset_mcps(written_listens(), CatalogNaming())

    schema = aspects_of(mcps, LISTENS_URN)["schemaMetadata"]

    table = listens_table()
    assert [f.fieldPath for f in schema.fields] == table.column_names
    assert {f.fieldPath: f.nullable for f in schema.fields} == {
        f.name: f.nullable for f in table.schema
    }
    assert schema.fields[0].nullable is False  # listen_id is declared not null
    assert schema.schemaName == "cleaned.listens"
    assert "played_at: timestamp[us, tz=UTC]" in schema.platformSchema.rawSchema


def test_profile_counts_nulls_and_takes_min_max_of_numbers_and_times_only() -> None:
    profile = profile_table(listens_table())

    assert profile.row_count == 4
    columns = {c.name: (c.null_count, c.min, c.max) for c in profile.columns}
    assert columns == {
        "listen_id": (0, "10", "13"),
        "user_id": (1, None, None),
        "ms_played": (1, "250", "90000"),
        "score": (1, "-1.25", "3.0"),
        "played_at": (1, "2026-01-01 00:00:01+00:00", "2026-01-01 23:59:59+00:00"),
        "day": (1, "2026-01-01", "2026-01-01"),
        "skipped": (1, None, None),
    }


def test_profile_of_an_all_null_or_empty_column_has_no_bounds() -> None:
    table = pa.table(
        {"empty": pa.array([None, None], pa.float64()), "amount": [Decimal("1.50"), None]}
    )

    profile = profile_table(table)

    assert {c.name: (c.null_count, c.min, c.max) for c in profile.columns} == {
        "empty": (2, None, None),
        "amount": (1, None, None),  # decimals are not profiled for bounds
    }


def test_dataset_profile_aspect_carries_the_row_count_and_null_proportions() -> None:
    profile = aspects_of(dataset_mcps(written_listens(), CatalogNaming()), LISTENS_URN)[
        "datasetProfile"
    ]

    assert profile.rowCount == 4
    assert profile.columnCount == 7
    assert profile.timestampMillis == int(WRITTEN_AT.timestamp() * 1000)
    assert profile.partitionSpec.partition == "2026-01-01"
    fields = {f.fieldPath: f for f in profile.fieldProfiles}
    assert fields["ms_played"].nullCount == 1
    assert fields["ms_played"].nullProportion == pytest.approx(0.25)
    assert (fields["ms_played"].min, fields["ms_played"].max) == ("250", "90000")
    assert fields["listen_id"].nullProportion == 0.0


def test_an_empty_table_is_profiled_without_dividing_by_zero() -> None:
    empty = listens_table().slice(0, 0)
    written = replace(written_listens(table=empty), partition=None)

    aspects = aspects_of(dataset_mcps(written, CatalogNaming()), LISTENS_URN)

    profile = aspects["datasetProfile"]
    assert profile.rowCount == 0
    assert {f.nullProportion for f in profile.fieldProfiles} == {0.0}
    assert profile.partitionSpec.partition == "FULL_TABLE_SNAPSHOT"
    assert aspects["datasetProperties"].customProperties["row_count"] == "0"


def test_dataset_lineage_ownership_tags_and_properties() -> None:
    naming = CatalogNaming()

    mcps = dataset_mcps(written_listens(run_id="run-42"), naming)

    assert all(mcp.validate() for mcp in mcps)
    aspects = aspects_of(mcps, LISTENS_URN)
    raw, users = naming.dataset_urn(RAW_LISTENS), naming.dataset_urn(USERS)
    lineage = aspects["upstreamLineage"]
    assert [(u.dataset, u.type) for u in lineage.upstreams] == [
        (raw, "TRANSFORMED"),
        (users, "TRANSFORMED"),
    ]
    column_lineage = {
        tuple(f.downstreams): sorted(f.upstreams) for f in lineage.fineGrainedLineages
    }
    assert column_lineage == {
        (f"urn:li:schemaField:({LISTENS_URN},user_id)",): sorted(
            [f"urn:li:schemaField:({raw},user)", f"urn:li:schemaField:({users},user_id)"]
        ),
        (f"urn:li:schemaField:({LISTENS_URN},ms_played)",): [f"urn:li:schemaField:({raw},ms)"],
    }
    assert {(o.owner, o.type) for o in aspects["ownership"].owners} == {
        ("urn:li:corpuser:ana@example.com", "TECHNICAL_OWNER"),
        ("urn:li:corpGroup:data-eng", "TECHNICAL_OWNER"),
    }
    assert {t.tag for t in aspects["globalTags"].tags} == {
        "urn:li:tag:tier:gold",
        "urn:li:tag:pii",
    }
    properties = aspects["datasetProperties"]
    assert properties.name == "cleaned.listens"
    assert properties.description == "Listening events, one row per play."
    assert properties.customProperties["run_id"] == "run-42"
    assert properties.customProperties["dagster_run_url"].endswith("/runs/run-42")
    assert properties.customProperties["row_count"] == "4"
    assert properties.customProperties["partition"] == "2026-01-01"
    assert [e.id for e in aspects["browsePathsV2"].path] == ["cleaned"]
    assert aspects["status"].removed is False

    job = aspects_of(mcps, naming.job_urn(LISTENS))
    assert job["dataJobInputOutput"].inputDatasets == [raw, users]
    assert job["dataJobInputOutput"].outputDatasets == [LISTENS_URN]
    assert aspects_of(mcps, naming.flow_urn)["dataFlowInfo"].name == "dataplatform"


def test_a_source_table_without_upstreams_or_owners_has_no_lineage_or_ownership() -> None:
    written = replace(written_listens(), upstream=(), column_lineage=None, owners=())

    mcps = dataset_mcps(written, CatalogNaming())

    aspects = aspects_of(mcps, LISTENS_URN)
    assert "upstreamLineage" not in aspects
    assert "ownership" not in aspects
    assert (
        aspects_of(mcps, CatalogNaming().job_urn(LISTENS))["dataJobInputOutput"].inputDatasets == []
    )


def finished_run(succeeded: bool, **changes: object) -> FinishedRun:
    run = FinishedRun(
        run_id="4f1c2d3e-run",
        job_name="daily_refresh",
        succeeded=succeeded,
        started_at=WRITTEN_AT,
        ended_at=WRITTEN_AT + timedelta(minutes=2),
        outputs=(LISTENS, USERS),
        message=None if succeeded else "step clean_listens failed",
    )
    return replace(run, **changes)


def run_events(mcps: list) -> list[dh.DataProcessInstanceRunEventClass]:
    return [m.aspect for m in mcps if m.aspectName == "dataProcessInstanceRunEvent"]


@pytest.mark.parametrize(("succeeded", "result"), [(True, "SUCCESS"), (False, "FAILURE")])
def test_a_finished_run_is_a_process_instance_with_its_outcome_and_outputs(
    succeeded: bool, result: str
) -> None:
    naming = CatalogNaming()

    mcps = run_mcps(finished_run(succeeded), naming)

    assert all(mcp.validate() for mcp in mcps)
    assert len({mcp.entityUrn for mcp in mcps}) == 1
    assert mcps[0].entityUrn.startswith("urn:li:dataProcessInstance:")
    started, ended = run_events(mcps)
    assert (started.status, started.result) == ("STARTED", None)
    assert ended.status == "COMPLETE"
    assert ended.result.type == result
    assert ended.durationMillis == 120_000
    assert started.timestampMillis == int(WRITTEN_AT.timestamp() * 1000)
    aspects = {
        m.aspectName: m.aspect for m in mcps if m.aspectName != "dataProcessInstanceRunEvent"
    }
    assert aspects["dataProcessInstanceOutput"].outputs == [
        naming.dataset_urn(LISTENS),
        naming.dataset_urn(USERS),
    ]
    assert aspects["dataProcessInstanceRelationships"].parentTemplate == naming.flow_urn
    properties = aspects["dataProcessInstanceProperties"]
    assert properties.name == "4f1c2d3e-run"
    assert properties.externalUrl == naming.run_url("4f1c2d3e-run")
    assert properties.customProperties["job"] == "daily_refresh"
    assert ("message" in properties.customProperties) is not succeeded


def test_a_run_is_identified_by_its_run_id() -> None:
    naming = CatalogNaming()

    first = run_mcps(finished_run(True), naming)[0].entityUrn
    again = run_mcps(finished_run(False), naming)[0].entityUrn
    other = run_mcps(finished_run(True, run_id="another-run"), naming)[0].entityUrn

    assert first == again != other


def test_a_run_that_never_started_is_timed_at_its_end() -> None:
    run = finished_run(False, started_at=None)

    started, ended = run_events(run_mcps(run, CatalogNaming()))

    assert started.timestampMillis == ended.timestampMillis
    assert ended.durationMillis == 0
    assert ended.result.type == "FAILURE"
