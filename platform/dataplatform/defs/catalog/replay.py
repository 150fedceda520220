"""The replay job: sends spooled (undelivered) metadata to DataHub, oldest first."""

import dagster as dg

from dataplatform.catalog.sink import DataHubSink


@dg.op(
    out=dg.Out(dg.Nothing),  # a count, not a table: nothing for the Parquet IO manager to store
    description="Send every spooled metadata batch to DataHub, in order.",
)
def replay_catalog_spool(context: dg.OpExecutionContext, datahub: DataHubSink) -> dg.Output:
    sent = datahub.replay()
    context.log.info(f"replayed {sent} spooled batches to DataHub ({datahub.kind.value})")
    return dg.Output(None, metadata={"batches_sent": sent, "sink": datahub.kind.value})


@dg.job(description="Replay metadata that could not reach DataHub when it was written.")
def replay_lineage() -> None:
    replay_catalog_spool()
