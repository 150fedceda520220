"""Following a run as it executes: what it did so far, a line per asset, a live bar."""

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypedDict

import dagster as dg
from dagster_shared.error import SerializableErrorInfo
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from dataplatform.cli import output


class MaterializationSummary(TypedDict):
    rows: object  # the row count metadata value, None if not reported
    path: str | None
    decision: str | None  # a model's promotion decision, None for other assets


@dataclass
class RunOutcome:
    """What one run did, built from its events while it executes."""

    partition: str | None
    run_id: str = ""
    success: bool = False
    planned: dict[dg.AssetKey, str] = field(default_factory=dict)  # asset -> its step
    materialized: dict[dg.AssetKey, MaterializationSummary] = field(default_factory=dict)
    checks: dict[dg.AssetKey, list[dg.AssetCheckEvaluation]] = field(default_factory=dict)
    failed_steps: dict[str, str] = field(default_factory=dict)  # step -> error
    upstream: Mapping[str, frozenset[str]] = field(default_factory=dict)  # step -> its inputs'
    finished_steps: set[str] = field(default_factory=set)
    skipped_steps: set[str] = field(default_factory=set)  # not run: an input was not written
    warnings: dict[str, str] = field(default_factory=dict)  # step -> its last warning

    @property
    def failed_error_checks(self) -> list[dg.AssetCheckEvaluation]:
        return [
            evaluation
            for evaluations in self.checks.values()
            for evaluation in evaluations
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
        ]

    def failed_assets(self) -> list[dg.AssetKey]:
        return [
            key
            for key, step in self.planned.items()
            if step in self.failed_steps and key not in self.materialized
        ]

    def why_not_written(self, key: dg.AssetKey) -> str:
        """Why a planned asset was not written: its step's error, the step's own reason for
        writing nothing (its last warning), or the upstream assets it waited for."""
        step = self.planned[key]
        if step in self.failed_steps:
            return f"failed: {self.failed_steps[step]}"
        if step in self.finished_steps:
            return f"skipped: {self.warnings.get(step, 'its step did not write it')}"
        failed_inputs = self.upstream_assets(
            step, lambda _, upstream: upstream in self.failed_steps
        )
        if failed_inputs:
            return f"not run: {', '.join(failed_inputs)} failed"
        if step in self.skipped_steps:
            missing = self.upstream_assets(step, lambda asset, _: asset not in self.materialized)
            return f"skipped: {', '.join(missing) or 'an input'} not written"
        return "not run"

    def upstream_assets(self, step: str, which: Callable[[dg.AssetKey, str], bool]) -> list[str]:
        """The planned assets of the steps feeding `step` that match `which(asset, step)`."""
        inputs = self.upstream.get(step, frozenset())
        return [
            asset.to_user_string()
            for asset, upstream_step in self.planned.items()
            if upstream_step in inputs and which(asset, upstream_step)
        ]


class RunDisplay:
    """A line per asset as it lands, plus a live bar of done/running/failed on a terminal."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("starting", total=None, running="")
        self.running: set[str] = set()

    def handle(self, entry: dg.EventLogEntry, outcome: RunOutcome) -> None:
        event = entry.dagster_event
        if event is None:
            self.record_message(entry, outcome)
            return
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
            assert event.asset_key is not None and event.step_key is not None  # planned per step
            outcome.planned[event.asset_key] = event.step_key
        elif event.event_type == dg.DagsterEventType.STEP_START:
            assert event.step_key is not None  # a step event
            self.running.add(event.step_key)
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            self.record_materialization(event, outcome)
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            self.record_check(event.asset_check_evaluation_data, outcome)
        elif event.event_type == dg.DagsterEventType.RUN_FAILURE:
            self.progress.console.print(f"[red]failed[/]  run: {event.message}")
        elif event.event_type == dg.DagsterEventType.STEP_SKIPPED:
            assert event.step_key is not None  # a step event
            outcome.skipped_steps.add(event.step_key)
        elif event.event_type in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
        ):
            assert event.step_key is not None  # a step event
            self.running.discard(event.step_key)
            outcome.finished_steps.add(event.step_key)
            if event.is_step_failure:
                self.record_failure(event, outcome)
        self.refresh(outcome)

    def record_message(self, entry: dg.EventLogEntry, outcome: RunOutcome) -> None:
        """A running step's warnings are the platform's own: dependencies' go to the run's logs,
        and Dagster's about steps it does not start are told by the summary."""
        level = entry.level
        if isinstance(level, str):  # a logger's level name, e.g. "WARNING"
            level = logging.getLevelNamesMapping().get(level, logging.NOTSET)
        if level < logging.WARNING or entry.step_key not in self.running:
            return
        outcome.warnings[entry.step_key] = entry.user_message
        self.progress.console.print(
            f"[yellow]warning[/] {entry.step_key}: {escape(entry.user_message)}"
        )

    def record_materialization(self, event: dg.DagsterEvent, outcome: RunOutcome) -> None:
        materialization = event.step_materialization_data.materialization
        summary = materialization_summary(materialization.metadata)
        outcome.materialized[materialization.asset_key] = summary
        rows = f"{summary['rows']} rows" if summary["rows"] is not None else ""
        self.progress.console.print(
            f"[green]done[/]    {materialization.asset_key.to_user_string()}  {rows}"
        )

    def record_check(self, evaluation: dg.AssetCheckEvaluation, outcome: RunOutcome) -> None:
        outcome.checks.setdefault(evaluation.asset_key, []).append(evaluation)
        if not evaluation.passed:
            self.progress.console.print(
                f"[yellow]check[/]   {evaluation.asset_key.to_user_string()} "
                f"{evaluation.check_name} failed ({evaluation.severity.value})"
            )

    def record_failure(self, event: dg.DagsterEvent, outcome: RunOutcome) -> None:
        error = event.step_failure_data.error
        message = error_cause(error) if error else "failed"
        assert event.step_key is not None  # a step event
        outcome.failed_steps[event.step_key] = message
        self.progress.console.print(f"[red]failed[/]  {event.step_key}: {escape(message)}")

    def refresh(self, outcome: RunOutcome) -> None:
        failed = len(outcome.failed_assets())
        self.progress.update(
            self.task,
            total=len(outcome.planned) or None,
            completed=len(outcome.materialized),
            description=f"assets ([red]{failed} failed[/])" if failed else "assets",
            running=", ".join(
                key.to_user_string()
                for key, step in outcome.planned.items()
                if step in self.running
            ),
        )


@contextmanager
def live_progress() -> Iterator[RunDisplay]:
    """The live bar only on a terminal: in CI and pipes the per-asset lines are enough."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("[cyan]{task.fields[running]}"),
        console=output.console,
        disable=not output.console.is_terminal,
    )
    with progress:
        yield RunDisplay(progress)


def error_cause(error: SerializableErrorInfo) -> str:
    """The exception under Dagster's wrappers ("Error occurred while executing op ..."), as
    its class and the first line of its message."""
    while error.cls_name and error.cls_name.startswith("Dagster") and error.cause is not None:
        error = error.cause
    lines = [line.strip() for line in error.message.strip().splitlines() if line.strip()]
    first = lines[0] if lines else ""
    if not error.cls_name:
        return first
    # Python renders the message as "module.Class: text": the class is shown once.
    named, separator, text = first.partition(": ")
    if separator and named.rsplit(".", 1)[-1] == error.cls_name:
        first = text
    return f"{error.cls_name}: {first}"


def upstream_steps(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dict[str, frozenset[str]]:
    """Each step of the run's plan and the steps whose outputs it takes as inputs."""
    assert run.execution_plan_snapshot_id is not None  # a launched run has a plan
    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    return {
        step.key: frozenset(
            handle.step_key
            for step_input in step.inputs
            for handle in step_input.upstream_output_handles
        )
        for step in plan.steps
    }


def materialization_summary(metadata: Mapping[str, dg.MetadataValue]) -> MaterializationSummary:
    rows = metadata.get("dagster/row_count")
    path = metadata.get("path")
    decision = metadata.get("decision")
    return {
        "rows": rows.value if rows else None,
        "path": output.relative(str(path.value)) if path else None,
        "decision": str(decision.value) if decision else None,
    }
