"""One daily-partitioned `raw` asset per source API endpoint (the registry in
`demo_api.endpoints`): the day's records as given."""

import dagster as dg
import pyarrow as pa

from dataplatform.demo_api.endpoints import ENDPOINTS, Endpoint
from dataplatform.partitions import daily_partitions
from dataplatform.resources.source_api import SourceApiClient


def build_raw_asset(source: Endpoint) -> dg.AssetsDefinition:
    endpoint = source.name

    @dg.asset(
        name=endpoint,
        key_prefix="raw",
        group_name="raw",
        partitions_def=daily_partitions,
        kinds={"api", "parquet"},
        description=(
            f"{source.description} The source API's /{endpoint} for the partition day, every"
            " field as the API gave it (text), plus the page it came from and the extraction"
            " time."
        ),
    )
    def raw_endpoint(
        context: dg.AssetExecutionContext, source_api: SourceApiClient
    ) -> dg.Output[pa.Table]:
        extract = source_api.fetch_day(endpoint, context.partition_key)
        context.log.info(
            f"/{endpoint} {context.partition_key}: {extract.records.num_rows} records in"
            f" {extract.pages} pages, {extract.seconds:.1f}s"
        )
        return dg.Output(
            extract.records,
            metadata={
                "endpoint": f"/{endpoint}",
                "pages": extract.pages,
                "bytes": extract.nbytes,
                "duration_seconds": round(extract.seconds, 3),
                "retries": extract.retries,
            },
        )

    return raw_endpoint


raw_assets = [build_raw_asset(endpoint) for endpoint in ENDPOINTS]
