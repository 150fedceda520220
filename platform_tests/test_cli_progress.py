"""What the command shows of a run: each failed step's own exception in one line, and each
asset that was not written with the reason, from the events of a real run."""

import io
from collections.abc import Iterator

import dagster as dg
import pytest
from rich.console import Console

from dataplatform.cli import output
from dataplatform.cli.progress import RunOutcome, live_progress, upstream_steps
from dataplatform.cli.summaries import print_summary

NO_CHAMPION = "no champion yet: train it first (train_models_job)"


class SourceEmpty(Exception):
    """A user's exception, raised under Dagster's wrappers."""


@dg.asset
def extracted() -> int:
    try:
        {}["rows"]
    except KeyError as error:
        raise SourceEmpty("the source sent no rows\nsecond line of detail") from error
    return 0


@dg.asset
def cleaned(extracted: int) -> int:
    return extracted


@dg.asset(output_required=False)
def scores(context: dg.AssetExecutionContext) -> Iterator[dg.Output[int]]:
    context.log.warning(NO_CHAMPION)
    yield from ()


@dg.asset
def published_scores(scores: int) -> int:
    return scores


def shown_run(
    assets: list[dg.AssetsDefinition], monkeypatch: pytest.MonkeyPatch
) -> tuple[RunOutcome, str]:
    """Runs the assets, feeds their stored events to the command's display, prints the summary."""
    shown = io.StringIO()
    monkeypatch.setattr(output, "console", Console(file=shown, width=300, color_system=None))
    with dg.instance_for_test() as instance:
        result = dg.materialize(assets, instance=instance, raise_on_error=False)
        run = instance.get_run_by_id(result.run_id)
        assert run is not None
        outcome = RunOutcome(
            partition=None, run_id=run.run_id, upstream=upstream_steps(instance, run)
        )
        with live_progress() as display:
            for record in instance.get_records_for_run(run.run_id, limit=10_000).records:
                display.handle(record.event_log_entry, outcome)
        outcome.success = result.success
    print_summary("a_job", outcome)
    return outcome, shown.getvalue()


def test_a_failed_step_shows_the_users_exception_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outcome, shown = shown_run([extracted, cleaned], monkeypatch)

    cause = "SourceEmpty: the source sent no rows"
    assert outcome.failed_steps == {"extracted": cause}
    assert f"failed  extracted: {cause}\n" in shown
    assert "Error occurred while executing" not in shown
    assert "second line of detail" not in shown
    assert f"failed: {cause}" in row_of("extracted", shown)
    assert "not run: extracted failed" in row_of("cleaned", shown)
    assert "Dependencies for step" not in shown  # Dagster's own note, the summary tells it


def test_skipped_steps_show_their_reason_in_the_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    _outcome, shown = shown_run([scores, published_scores], monkeypatch)

    assert f"warning scores: {NO_CHAMPION}" in shown  # as it happens
    assert f"skipped: {NO_CHAMPION}" in row_of("scores", shown)
    assert "skipped: scores not written" in row_of("published_scores", shown)
    assert "not run" not in shown


def row_of(asset: str, shown: str) -> str:
    [row] = [line for line in shown.splitlines() if line.startswith(f"│ {asset} ")]
    return row
