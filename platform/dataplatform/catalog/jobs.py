"""The replay job: sends spooled (undelivered) metadata to DataHub, oldest first."""

import dagster as dg

from dataplatform.resources.datahub import DataHubSink


@dg.op(description="Send every spooled metadata batch to DataHub, in order.")
def replay_catalog_spool(context: dg.OpExecutionContext, datahub: DataHubSink) -> int:
    sent = datahub.replay()
    context.log.info(f"replayed {sent} spooled batches to DataHub ({datahub.kind.value})")
    return sent


@dg.job(description="Replay metadata that could not reach DataHub when it was written.")
def replay_lineage() -> None:
    replay_catalog_spool()
