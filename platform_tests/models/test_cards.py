"""Model cards: Markdown, JSON and flat properties from one card; logged with the version's
run in a real MLflow store, and a clear error that keeps the version when logging fails."""

import math

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from dataplatform.models.cards import (
    CARD_JSON,
    CARD_MARKDOWN,
    CardBaseline,
    CardError,
    ModelCard,
    TrainingData,
    log_card,
)
from platform_tests.models.conftest import LocalMlflow


def card(version: str = "1") -> ModelCard:
    return ModelCard(
        model_name="review_sentiment",
        version=version,
        summary="Review sentiment.",
        training_data=TrainingData(
            "cleaned/reviews", ("2026-12-03", "2026-12-04"), {"labelled": 500, "test": 125}
        ),
        metrics={"balanced_accuracy": 0.81, "roc_auc": 0.9},
        baseline=CardBaseline("majority class", "balanced_accuracy", 0.5, 0.81),
        decision="promoted version 1 (first champion)",
        intended_use="Telling negative from positive reviews.",
        known_limits=("Ignores word order.", "Demo text."),
        per_class={"negative": {"recall": 0.7, "test_rows": 20.0}},
        per_slice={"short": {"recall_negative": math.nan, "test_rows": 4.0}},
    )


def test_the_markdown_shows_every_part_of_the_card() -> None:
    markdown = card().markdown()

    assert markdown.startswith("# Model card: review_sentiment version 1")
    for text in (
        "`cleaned/reviews`, partitions 2026-12-03..2026-12-04 (2 partitions).",
        "| labelled | 500 |",
        "| balanced_accuracy | 0.8100 |",
        "majority class: balanced_accuracy 0.5000 (this version 0.8100).",
        "| negative | 0.7000 | 20.0000 |",
        "| short | n/a | 4.0000 |",
        "- Ignores word order.",
        "Telling negative from positive reviews.",
    ):
        assert text in markdown


def test_properties_are_flat_strings_and_json_has_no_nan() -> None:
    properties = card().properties()
    as_dict = card().as_dict()

    assert properties["card.training_data.rows.test"] == "125"
    assert properties["card.class.negative.recall"] == "0.7000"
    assert properties["card.slice.short.recall_negative"] == "n/a"
    assert properties["card.known_limits"] == "Ignores word order. | Demo text."
    assert all(isinstance(value, str) for value in properties.values())
    assert as_dict["per_slice"]["short"]["recall_negative"] is None
    assert as_dict["training_data"]["partitions"] == ["2026-12-03", "2026-12-04"]


def test_the_card_is_logged_with_the_run_of_its_version(local_mlflow: LocalMlflow) -> None:
    client = local_mlflow.client()
    with mlflow.start_run() as run:
        mlflow.log_text("model", "model.txt")
    client.create_registered_model("review_sentiment")
    client.create_model_version("review_sentiment", "source", run_id=run.info.run_id)

    run_id = log_card(card(), client)

    assert run_id == run.info.run_id
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/{CARD_JSON}") == card().as_dict()
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/{CARD_MARKDOWN}") == card().markdown()


def test_a_card_for_a_version_mlflow_does_not_have_is_a_clear_error(
    local_mlflow: LocalMlflow,
) -> None:
    with pytest.raises(CardError, match="version 7 is registered, but its model card could not"):
        log_card(card("7"), local_mlflow.client())


def test_an_unreachable_mlflow_is_a_clear_error() -> None:
    # Nothing listens on port 9 (discard) on loopback; no retries for this one call.
    client = MlflowClient(tracking_uri="http://127.0.0.1:9")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        with pytest.raises(CardError, match="could not be logged"):
            log_card(card(), client)
