"""Runs executed by the health and alert tests: successes, a failure and a blocked check."""

import dagster as dg
import pandas as pd

ROWS = 5


@dg.asset
def songs() -> pd.DataFrame:
    return pd.DataFrame({"song": range(ROWS)})


@dg.asset(check_specs=[dg.AssetCheckSpec("not_empty", asset="guarded", blocking=True)])
def guarded():
    yield dg.Output(pd.DataFrame({"x": [1]}))
    yield dg.AssetCheckResult(check_name="not_empty", passed=False)


@dg.asset
def exploding() -> pd.DataFrame:
    raise RuntimeError("boom")


def run_failure_event(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterEvent:
    [record] = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    return record.event_log_entry.dagster_event
