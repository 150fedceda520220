"""The daily MLflow -> DataHub pull, as a job and its schedule."""

import dagster as dg

from dataplatform.catalog.mlflow_ingestion import MlflowTrackingServer, ingest_mlflow
from dataplatform.catalog.sink import DataHubSink, SinkKind


@dg.op(
    out=dg.Out(dg.Nothing),  # counts, not a table: nothing for the Parquet IO manager to store
    description="Pull experiments, runs and registered models from MLflow into DataHub.",
)
def ingest_mlflow_into_datahub(
    context: dg.OpExecutionContext, mlflow_server: MlflowTrackingServer, datahub: DataHubSink
) -> dg.Output:
    if datahub.kind is SinkKind.NONE:
        context.log.info("the DataHub sink is disabled: nothing to ingest into")
        return dg.Output(None, metadata={"workunits": 0, "records_written": 0})
    counts = ingest_mlflow(mlflow_server, datahub)
    context.log.info(f"MLflow -> DataHub ({datahub.kind.value}): {counts}")
    return dg.Output(None, metadata=counts)


@dg.job(
    name="mlflow_to_datahub",
    tags={"group": "catalog"},
    description="DataHub's MLflow ingestion source, run against the tracking server.",
)
def mlflow_to_datahub() -> None:
    ingest_mlflow_into_datahub()
