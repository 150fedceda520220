"""What the Dagster instance knows of landed files: which content already landed, and how the
run requested for a file ended."""

import dagster as dg

from dataplatform.landing.datasets import LandingDataset

REQUEST_TAG = "landing/request"  # the request a run answers: one per file sighting and attempt


def landed_before(
    instance: dg.DagsterInstance, dataset: LandingDataset, sha256: str, materialized: set[str]
) -> str | None:
    """The name of a file of `dataset` that already landed with these bytes, if any.

    Partition keys end with the content hash's first 12 digits; the materialisation's full hash
    confirms the match."""
    suffix = f"-{sha256[:12]}"
    for key in sorted(key for key in materialized if key.endswith(suffix)):
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dataset.key, asset_partitions=[key]), limit=1
        ).records
        event = records[0].asset_materialization if records else None
        metadata = event.metadata if event is not None else {}
        if "sha256" in metadata and metadata["sha256"].value == sha256:
            source = metadata.get("source_file")
            return str(source.value) if source is not None else key
    return None


def run_for(instance: dg.DagsterInstance, request: str) -> dg.DagsterRun | None:
    """The newest run launched for `request`, if it was launched yet."""
    runs = instance.get_runs(dg.RunsFilter(tags={REQUEST_TAG: request}), limit=1)
    return runs[0] if runs else None


def failure_reason(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str:
    """The first failed step's error (its root cause, not Dagster's wrapper), else the run's own
    failure message, in one line."""
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = entry.dagster_event
        error = event.step_failure_data.error if event is not None else None
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            return " ".join(error.message.split())
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
        if entry.dagster_event is not None and entry.dagster_event.message:
            return " ".join(entry.dagster_event.message.split())
    return f"run {run.run_id} ended {run.status.value}"
