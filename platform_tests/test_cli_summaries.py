"""The summary that ends a run names each trained model's promotion decision."""

import io

import dagster as dg
import pytest
from rich.console import Console

from dataplatform.cli import output
from dataplatform.cli.progress import RunOutcome, materialization_summary
from dataplatform.cli.summaries import print_summary

DECISION = (
    "not promoted version 2, as it does not beat the baseline: precision_at_10 0.0223 vs"
    " champion none (margin 0.0); precision_at_10 0.0223 vs popularity baseline 0.0252"
)


def test_the_summary_shows_each_models_decision_and_only_theirs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown = io.StringIO()
    monkeypatch.setattr(output, "console", Console(file=shown, width=300, color_system=None))
    outcome = RunOutcome(partition=None, run_id="a-run", success=True)
    outcome.materialized[dg.AssetKey(["models", "recommender"])] = materialization_summary(
        {"decision": dg.MetadataValue.text(DECISION)}
    )
    outcome.materialized[dg.AssetKey(["models", "review_embeddings"])] = materialization_summary(
        {"dagster/row_count": dg.MetadataValue.int(1)}
    )

    print_summary("train_models_job", outcome)

    assert f"models/recommender: {DECISION}" in shown.getvalue()
    assert "models/review_embeddings:" not in shown.getvalue()
