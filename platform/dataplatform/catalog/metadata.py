"""The one place that turns what the platform did into DataHub metadata (MCPs).

`dataset_mcps` describes a written table (properties, schema, lineage, profile, ownership,
tags, browse path) and the DataJob that computed it; `sql_table_mcps` does the same for a
table the mart published into its database (platform `duckdb` or `postgres`, the database's
own column types, lineage to the Parquet asset it copies); `run_mcps` describes a finished Dagster
run as a DataProcessInstance with its outcome. The IO manager, the run-status sensors and
the model code all build their metadata here; the `DataHubSink` resource delivers it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg
import datahub.metadata.schema_classes as dh
import pyarrow as pa
from datahub.api.entities.dataprocess.dataprocess_instance import (
    DataProcessInstance,
    InstanceRunResult,
)
from datahub.emitter.mce_builder import (
    make_data_platform_urn,
    make_group_urn,
    make_schema_field_urn,
    make_tag_urn,
    make_user_urn,
)
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.urns import DataFlowUrn, DatasetUrn

from dataplatform.catalog.naming import ORCHESTRATOR, CatalogNaming, SqlTable
from dataplatform.catalog.profile import TableProfile
from dataplatform.column_descriptions import column_description

MCP = MetadataChangeProposalWrapper


@dataclass(frozen=True)
class WrittenDataset:
    """Everything known about one successful write of an asset (partition)."""

    key: dg.AssetKey
    schema: pa.Schema
    profile: TableProfile
    uri: str
    run_id: str
    written_at: datetime
    partition: str | None = None
    description: str | None = None
    group: str | None = None
    code_version: str | None = None
    owners: Sequence[str] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    upstream: Sequence[dg.AssetKey] = ()
    column_lineage: dg.TableColumnLineage | None = None


@dataclass(frozen=True)
class SqlColumn:
    name: str
    data_type: str  # as the database reports it
    nullable: bool


@dataclass(frozen=True)
class PublishedSqlTable:
    """A table the mart published into its database for a day, as the database holds it."""

    key: dg.AssetKey
    table: SqlTable
    columns: Sequence[SqlColumn]
    row_count: int
    location: str  # the database, without credentials
    run_id: str
    written_at: datetime
    partition: str | None = None
    description: str | None = None
    group: str | None = None
    owners: Sequence[str] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    upstream: Sequence[dg.AssetKey] = ()
    column_lineage: dg.TableColumnLineage | None = None  # the columns copied as they are


@dataclass(frozen=True)
class FinishedRun:
    run_id: str
    job_name: str
    succeeded: bool
    started_at: datetime | None
    ended_at: datetime
    outputs: Sequence[dg.AssetKey] = ()
    message: str | None = None
    # The dataset an output's materialisation said it wrote, where it differs from the
    # asset's own name (a mart table on its database's platform).
    output_urns: Mapping[dg.AssetKey, str] = field(default_factory=dict)

    def output_urn(self, key: dg.AssetKey, naming: CatalogNaming) -> str:
        return self.output_urns.get(key) or naming.dataset_urn(key)


def describe_output(
    context: dg.OutputContext, schema: pa.Schema, profile: TableProfile, uri: str
) -> WrittenDataset:
    """What the IO manager knows about the write it just completed."""
    spec = _asset_spec(context)
    lineage = (spec.metadata if spec else {}).get("dagster/column_lineage")
    return WrittenDataset(
        key=context.asset_key,
        schema=schema,
        profile=profile,
        uri=uri,
        run_id=context.run_id,
        written_at=datetime.now(UTC),
        partition=context.asset_partition_key if context.has_asset_partitions else None,
        description=spec.description if spec else None,
        group=spec.group_name if spec else None,
        code_version=spec.code_version if spec else None,
        owners=tuple(spec.owners) if spec else (),
        tags={k: v for k, v in (spec.tags if spec else {}).items() if not k.startswith("dagster/")},
        # An incremental asset reads its own previous partition: not a lineage edge.
        upstream=tuple(dep.asset_key for dep in spec.deps if dep.asset_key != spec.key)
        if spec
        else (),
        column_lineage=lineage if isinstance(lineage, dg.TableColumnLineage) else None,
    )


def _asset_spec(context: dg.OutputContext) -> dg.AssetSpec | None:
    try:
        return context.asset_spec
    except dg.DagsterInvariantViolationError:  # a context built outside a run, e.g. in a benchmark
        return None


def dataset_mcps(written: WrittenDataset, naming: CatalogNaming) -> list[MCP]:
    urn = naming.dataset_urn(written.key)
    aspects: list[dh._Aspect] = [
        dh.StatusClass(removed=False),
        _properties(written, naming),
        _schema(written, naming),
        _profile(written),
        dh.BrowsePathsV2Class(path=[dh.BrowsePathEntryClass(id=written.group or "default")]),
    ]
    aspects += _governance(
        urn, written.tags, written.owners, written.upstream, written.column_lineage, naming
    )
    mcps = [MCP(entityUrn=urn, aspect=aspect) for aspect in aspects]
    return mcps + _job_mcps(written.key, urn, written.upstream, written.description, naming)


def sql_table_mcps(published: PublishedSqlTable, naming: CatalogNaming) -> list[MCP]:
    urn = naming.table_urn(published.table)
    aspects: list[dh._Aspect] = [
        dh.StatusClass(removed=False),
        _sql_properties(published, naming),
        _sql_schema(published),
        dh.DatasetProfileClass(
            timestampMillis=_millis(published.written_at),
            rowCount=published.row_count,
            columnCount=len(published.columns),
            partitionSpec=_partition_spec(None),  # the whole table, every day published
        ),
        dh.BrowsePathsV2Class(
            path=[dh.BrowsePathEntryClass(id=part) for part in published.table.name.split(".")[:-1]]
        ),
        dh.SubTypesClass(typeNames=["Table"]),
    ]
    aspects += _governance(
        urn, published.tags, published.owners, published.upstream, published.column_lineage, naming
    )
    mcps = [MCP(entityUrn=urn, aspect=aspect) for aspect in aspects]
    return mcps + _job_mcps(published.key, urn, published.upstream, published.description, naming)


def _governance(
    urn: str,
    tags: Mapping[str, str],
    owners: Sequence[str],
    upstream: Sequence[dg.AssetKey],
    column_lineage: dg.TableColumnLineage | None,
    naming: CatalogNaming,
) -> list[dh._Aspect]:
    """The tags, owners and lineage every dataset the platform writes carries."""
    aspects: list[dh._Aspect] = [
        dh.GlobalTagsClass(
            tags=[dh.TagAssociationClass(tag=make_tag_urn(_tag(k, v))) for k, v in tags.items()]
        )
    ]
    if owners:
        aspects.append(_ownership(owners))
    if upstream:
        aspects.append(_upstream_lineage(urn, upstream, column_lineage, naming))
    return aspects


def run_mcps(run: FinishedRun, naming: CatalogNaming) -> list[MCP]:
    """A run and its outcome; it adds to what the catalog knows, never removes lineage."""
    instance = DataProcessInstance(
        id=run.run_id,
        orchestrator=ORCHESTRATOR,
        template_urn=DataFlowUrn.from_string(naming.flow_urn),
        url=naming.run_url(run.run_id),
        properties={"job": run.job_name, **({"message": run.message} if run.message else {})},
        outlets=[DatasetUrn.from_string(run.output_urn(key, naming)) for key in run.outputs],
    )
    started = _millis(run.started_at or run.ended_at)
    result = InstanceRunResult.SUCCESS if run.succeeded else InstanceRunResult.FAILURE
    return [
        *instance.generate_mcp(created_ts_millis=started, materialize_iolets=False),
        *instance.start_event_mcp(start_timestamp_millis=started),
        *instance.end_event_mcp(
            end_timestamp_millis=_millis(run.ended_at),
            result=result,
            start_timestamp_millis=started,
        ),
    ]


def _properties(written: WrittenDataset, naming: CatalogNaming) -> dh.DatasetPropertiesClass:
    custom = {
        "dagster_asset_key": written.key.to_user_string(),
        "partition": written.partition or "",
        "run_id": written.run_id,
        "dagster_run_url": naming.run_url(written.run_id),
        "code_version": written.code_version or "",
        "row_count": str(written.profile.row_count),
        "uri": written.uri,
        "materialized_at": written.written_at.isoformat(),
    }
    return dh.DatasetPropertiesClass(
        name=naming.dataset_name(written.key),
        description=written.description,
        customProperties=custom,
        externalUrl=naming.asset_url(written.key),
        lastModified=dh.TimeStampClass(time=_millis(written.written_at)),
    )


def _schema(written: WrittenDataset, naming: CatalogNaming) -> dh.SchemaMetadataClass:
    return dh.SchemaMetadataClass(
        schemaName=naming.dataset_name(written.key),
        platform=naming.platform_urn,
        version=0,
        hash="",
        platformSchema=dh.OtherSchemaClass(rawSchema=written.schema.to_string()),
        fields=[
            dh.SchemaFieldClass(
                fieldPath=arrow_field.name,
                type=dh.SchemaFieldDataTypeClass(type=_field_type(arrow_field.type)),
                nativeDataType=str(arrow_field.type),
                nullable=arrow_field.nullable,
                description=column_description(written.key.path[-1], arrow_field.name) or None,
            )
            for arrow_field in written.schema
        ],
    )


def _sql_properties(
    published: PublishedSqlTable, naming: CatalogNaming
) -> dh.DatasetPropertiesClass:
    custom = {
        "dagster_asset_key": published.key.to_user_string(),
        "partition": published.partition or "",
        "run_id": published.run_id,
        "dagster_run_url": naming.run_url(published.run_id),
        "row_count": str(published.row_count),
        "database": published.location,
        "materialized_at": published.written_at.isoformat(),
    }
    return dh.DatasetPropertiesClass(
        name=published.table.table,
        qualifiedName=published.table.name,
        description=published.description,
        customProperties=custom,
        externalUrl=naming.asset_url(published.key),
        lastModified=dh.TimeStampClass(time=_millis(published.written_at)),
    )


def _sql_schema(published: PublishedSqlTable) -> dh.SchemaMetadataClass:
    return dh.SchemaMetadataClass(
        schemaName=published.table.name,
        platform=make_data_platform_urn(published.table.platform),
        version=0,
        hash="",
        platformSchema=dh.OtherSchemaClass(
            rawSchema=", ".join(f"{c.name} {c.data_type}" for c in published.columns)
        ),
        fields=[
            dh.SchemaFieldClass(
                fieldPath=column.name,
                type=dh.SchemaFieldDataTypeClass(type=_sql_field_type(column.data_type)),
                nativeDataType=column.data_type,
                nullable=column.nullable,
                description=column_description(published.table.table, column.name) or None,
            )
            for column in published.columns
        ],
    )


# The numeric type names DuckDB and PostgreSQL report in information_schema.
SQL_NUMBERS = (
    "bigint",
    "integer",
    "smallint",
    "tinyint",
    "hugeint",
    "ubigint",
    "uinteger",
    "double",
    "real",
    "float",
    "numeric",
    "decimal",
)


def _sql_field_type(
    data_type: str,
) -> (
    dh.BooleanTypeClass
    | dh.NumberTypeClass
    | dh.TimeTypeClass
    | dh.DateTypeClass
    | dh.StringTypeClass
    | dh.ArrayTypeClass
    | dh.BytesTypeClass
):
    name = data_type.lower()
    if name.startswith("bool"):
        return dh.BooleanTypeClass()
    if name.startswith(SQL_NUMBERS):
        return dh.NumberTypeClass()
    if name.startswith("timestamp"):
        return dh.TimeTypeClass()
    if name == "date":
        return dh.DateTypeClass()
    if name.startswith(("varchar", "text", "character", "uuid", "json")):
        return dh.StringTypeClass()
    if name.endswith("[]") or name.startswith("array"):
        return dh.ArrayTypeClass()
    return dh.BytesTypeClass()


def _field_type(
    arrow_type: pa.DataType,
) -> (
    dh.BooleanTypeClass
    | dh.NumberTypeClass
    | dh.TimeTypeClass
    | dh.DateTypeClass
    | dh.StringTypeClass
    | dh.ArrayTypeClass
    | dh.RecordTypeClass
    | dh.BytesTypeClass
):
    if pa.types.is_boolean(arrow_type):
        return dh.BooleanTypeClass()
    if (
        pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or pa.types.is_decimal(arrow_type)
    ):
        return dh.NumberTypeClass()
    if pa.types.is_timestamp(arrow_type):
        return dh.TimeTypeClass()
    if pa.types.is_date(arrow_type):
        return dh.DateTypeClass()
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return dh.StringTypeClass()
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return dh.ArrayTypeClass()
    if pa.types.is_struct(arrow_type) or pa.types.is_map(arrow_type):
        return dh.RecordTypeClass()
    return dh.BytesTypeClass()


def _profile(written: WrittenDataset) -> dh.DatasetProfileClass:
    rows = written.profile.row_count
    return dh.DatasetProfileClass(
        timestampMillis=_millis(written.written_at),
        rowCount=rows,
        columnCount=len(written.profile.columns),
        partitionSpec=_partition_spec(written.partition),
        fieldProfiles=[
            dh.DatasetFieldProfileClass(
                fieldPath=column.name,
                nullCount=column.null_count,
                nullProportion=column.null_count / rows if rows else 0.0,
                min=column.min,
                max=column.max,
            )
            for column in written.profile.columns
        ],
    )


def _partition_spec(partition: str | None) -> dh.PartitionSpecClass:
    if partition is None:
        return dh.PartitionSpecClass(
            partition="FULL_TABLE_SNAPSHOT", type=dh.PartitionTypeClass.FULL_TABLE
        )
    return dh.PartitionSpecClass(partition=partition, type=dh.PartitionTypeClass.PARTITION)


def _ownership(owners: Sequence[str]) -> dh.OwnershipClass:
    return dh.OwnershipClass(
        owners=[
            dh.OwnerClass(owner=_owner_urn(owner), type=dh.OwnershipTypeClass.TECHNICAL_OWNER)
            for owner in owners
        ]
    )


def _owner_urn(owner: str) -> str:
    # Dagster owners are emails or "team:<name>".
    if owner.startswith("team:"):
        return make_group_urn(owner.removeprefix("team:"))
    return make_user_urn(owner)


def _tag(key: str, value: str) -> str:
    return f"{key}:{value}" if value else key


def _upstream_lineage(
    urn: str,
    upstream: Sequence[dg.AssetKey],
    column_lineage: dg.TableColumnLineage | None,
    naming: CatalogNaming,
) -> dh.UpstreamLineageClass:
    """`urn`'s upstream assets (Parquet datasets of the orchestrator's platform)."""
    return dh.UpstreamLineageClass(
        upstreams=[
            dh.UpstreamClass(
                dataset=naming.dataset_urn(key), type=dh.DatasetLineageTypeClass.TRANSFORMED
            )
            for key in upstream
        ],
        fineGrainedLineages=_column_lineage(urn, column_lineage, naming) or None,
    )


def _column_lineage(
    urn: str, column_lineage: dg.TableColumnLineage | None, naming: CatalogNaming
) -> list[dh.FineGrainedLineageClass]:
    if column_lineage is None:
        return []
    return [
        dh.FineGrainedLineageClass(
            upstreamType=dh.FineGrainedLineageUpstreamTypeClass.FIELD_SET,
            upstreams=[
                make_schema_field_urn(naming.dataset_urn(dep.asset_key), dep.column_name)
                for dep in deps
            ],
            downstreamType=dh.FineGrainedLineageDownstreamTypeClass.FIELD,
            downstreams=[make_schema_field_urn(urn, column)],
        )
        for column, deps in column_lineage.deps_by_column.items()
    ]


def _job_mcps(
    key: dg.AssetKey,
    urn: str,
    upstream: Sequence[dg.AssetKey],
    description: str | None,
    naming: CatalogNaming,
) -> list[MCP]:
    """The asset's computation: a DataJob of the code location's DataFlow, writing `urn`."""
    job_urn = naming.job_urn(key)
    return [
        MCP(entityUrn=naming.flow_urn, aspect=dh.DataFlowInfoClass(name=naming.flow_id)),
        MCP(
            entityUrn=job_urn,
            aspect=dh.DataJobInfoClass(
                name=naming.dataset_name(key),
                type="DAGSTER_ASSET",
                description=description,
                externalUrl=naming.asset_url(key),
            ),
        ),
        MCP(
            entityUrn=job_urn,
            aspect=dh.DataJobInputOutputClass(
                inputDatasets=[naming.dataset_urn(up) for up in upstream],
                outputDatasets=[urn],
            ),
        ),
    ]


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
