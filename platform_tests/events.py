"""Read materialisations and check evaluations out of a run result by asset key."""

import dagster as dg


def materialization_metadata(result: dg.ExecuteInProcessResult, *key: str) -> dict:
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(key)
    ]
    return event.step_materialization_data.materialization.metadata


def check_results(
    result: dg.ExecuteInProcessResult,
    under: str | None = None,
    severity: dg.AssetCheckSeverity | None = None,
) -> dict[tuple[str, str], bool]:
    """(table name, check name) -> passed, for every check evaluated in the run; only those of
    assets under `under` (the first part of their key) and of `severity`, if given."""
    evaluations = [
        event.asset_check_evaluation_data
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    return {
        (e.asset_key.path[-1], e.check_name): e.passed
        for e in evaluations
        if under in (None, e.asset_key.path[0]) and severity in (None, e.severity)
    }


def op_output_metadata(result: dg.ExecuteInProcessResult, node: str) -> dict[str, object]:
    """The metadata an op attached to its output, as plain values."""
    [event] = [
        e for e in result.events_for_node(node) if e.event_type == dg.DagsterEventType.STEP_OUTPUT
    ]
    return {name: value.value for name, value in event.step_output_data.metadata.items()}
