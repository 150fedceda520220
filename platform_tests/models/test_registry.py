"""Champion/challenger promotion: the baseline to beat, a strict margin, the decision on record,
clean failure, and the fingerprint that tells a training on unchanged input."""

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from dataplatform.models.registry import (
    CHAMPION,
    FINGERPRINT_TAG,
    Baseline,
    EvaluationSize,
    Promotion,
    RegistryError,
    champion_uri,
    champion_version,
    load_champion,
    register_and_promote,
    training_fingerprint,
    unchanged_since,
)
from platform_tests.models.conftest import LocalMlflow

NAME = "constant"


class Constant(mlflow.pyfunc.PythonModel):
    """Predicts the same probability for every input: its score is known in advance."""

    def __init__(self, probability: float) -> None:
        self.probability = probability

    def predict(self, context: object, model_input: pd.DataFrame, params: dict | None = None):
        return pd.DataFrame({"positive_probability": [self.probability] * len(model_input)})


def logged_constant(probability: float) -> str:
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(
            name="model", python_model=Constant(probability), pip_requirements=["pandas"]
        )
    return info.model_uri


def loaded_probability(model_uri: str) -> float:
    """The 'score' of a constant model: its probability, read back from the registry."""
    return float(
        mlflow.pyfunc.load_model(model_uri).predict(pd.DataFrame({"x": [0]}))[
            "positive_probability"
        ][0]
    )


def promote(
    probability: float, margin: float = 0.05, baseline: float = 0.5, fingerprint: str = ""
) -> Promotion:
    return register_and_promote(
        logged_constant(probability),
        NAME,
        "score",
        probability,
        loaded_probability,
        margin,
        Baseline("coin", "score", score=baseline, challenger_score=probability),
        tags={FINGERPRINT_TAG: fingerprint},
    )


def champion(client: MlflowClient) -> str:
    return str(client.get_model_version_by_alias(NAME, CHAMPION).version)


def test_first_model_becomes_champion_and_loads_by_alias(local_mlflow: LocalMlflow) -> None:
    promotion = promote(0.6)

    assert promotion.promoted and promotion.champion_score is None
    assert promotion.decision.startswith("promoted version 1 (first champion):")
    assert champion(local_mlflow.client()) == promotion.version == "1"
    assert loaded_probability(champion_uri(NAME)) == 0.6
    assert load_champion(NAME).predict(pd.DataFrame({"x": [1, 2]})).shape == (2, 1)


def test_a_model_that_does_not_beat_its_baseline_is_registered_but_never_champion(
    local_mlflow: LocalMlflow,
) -> None:
    below, level = promote(0.4), promote(0.5)

    assert (below.promoted, level.promoted) == (False, False)
    assert below.decision == (
        "not promoted version 1, as it does not beat the baseline: score 0.4000 vs champion"
        " none (margin 0.05); score 0.4000 vs coin baseline 0.5000"
    )
    assert champion_version(NAME) is None
    versions = local_mlflow.client().search_model_versions(f"name = '{NAME}'")
    assert sorted(str(v.version) for v in versions) == ["1", "2"]


def test_challenger_must_beat_champion_strictly_by_more_than_the_margin(
    local_mlflow: LocalMlflow,
) -> None:
    promote(0.625)  # binary fractions, so that sums at the margin are exact

    worse, tie, at_margin, better = (
        promote(0.5625),
        promote(0.625, margin=0.0),
        promote(0.75, margin=0.125),
        promote(0.875, margin=0.125),
    )

    assert [p.promoted for p in (worse, tie, at_margin, better)] == [False, False, False, True]
    assert {p.champion_score for p in (worse, tie, at_margin, better)} == {0.625}
    assert tie.decision.startswith(
        "not promoted version 3, as it does not beat champion version 1 by more than the margin"
    )
    assert champion(local_mlflow.client()) == better.version == "5"
    versions = local_mlflow.client().search_model_versions(f"name = '{NAME}'")
    assert {str(v.version): v.tags["promoted"] for v in versions} == {
        "1": "true",
        "2": "false",
        "3": "false",
        "4": "false",
        "5": "true",
    }


def test_the_decision_scores_and_baseline_are_tags_of_the_version_and_its_run(
    local_mlflow: LocalMlflow,
) -> None:
    promote(0.6)

    promotion = promote(0.7, baseline=0.55)

    client = local_mlflow.client()
    version = client.get_model_version(NAME, promotion.version)
    assert version.run_id is not None
    run_tags = client.get_run(version.run_id).data.tags
    for tags in (version.tags, {k.removeprefix("promotion."): v for k, v in run_tags.items()}):
        assert tags["decision"] == promotion.decision
        assert (tags["challenger_score"], tags["champion_score"]) == ("0.700000", "0.600000")
        assert (tags["champion_version"], tags["promoted"]) == ("1", "true")
        assert (tags["baseline"], tags["baseline_score"]) == ("coin", "0.550000")


def test_the_fingerprint_knows_the_rows_in_any_order_and_the_settings() -> None:
    rows = pd.DataFrame({"user_id": [1, 2, 3], "track_id": [7, 8, 9]})
    fingerprint = training_fingerprint(rows, {"factors": 4})

    assert training_fingerprint(rows.iloc[::-1], {"factors": 4}) == fingerprint
    assert training_fingerprint(rows.head(2), {"factors": 4}) != fingerprint
    assert training_fingerprint(rows.assign(track_id=[7, 8, 10]), {"factors": 4}) != fingerprint
    assert training_fingerprint(rows, {"factors": 8}) != fingerprint
    vectors = np.ones((2, 3))
    with_vectors = training_fingerprint(rows, {"factors": 4}, [vectors])
    assert with_vectors != fingerprint
    assert training_fingerprint(rows, {"factors": 4}, [vectors * 2]) != with_vectors


def test_only_the_latest_version_trained_on_the_same_input_is_unchanged(
    local_mlflow: LocalMlflow,
) -> None:
    assert unchanged_since(NAME, "a") is None

    promote(0.6, fingerprint="a")
    assert unchanged_since(NAME, "a") is not None
    assert unchanged_since(NAME, "b") is None

    promote(0.7, fingerprint="b")
    assert unchanged_since(NAME, "a") is None
    latest = unchanged_since(NAME, "b")
    assert latest is not None and str(latest.version) == "2"


def test_failed_aliasing_deletes_the_new_version_and_keeps_the_champion(
    local_mlflow: LocalMlflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    promote(0.6)

    def unavailable(*args: object) -> None:
        raise mlflow.exceptions.MlflowException("registry unavailable")

    monkeypatch.setattr(MlflowClient, "set_registered_model_alias", unavailable)
    with pytest.raises(RegistryError, match="version 2 was deleted"):
        promote(0.9)

    versions = local_mlflow.client().search_model_versions(f"name = '{NAME}'")
    assert [str(v.version) for v in versions] == ["1"]
    assert champion(local_mlflow.client()) == "1"


def test_loading_a_champion_that_does_not_exist_says_so(local_mlflow: LocalMlflow) -> None:
    with pytest.raises(RegistryError, match="has no 'champion' version"):
        load_champion("never_trained")


def judged(
    challenger: float, champion: float | None, size: EvaluationSize | None = None
) -> Promotion:
    baseline = Baseline("coin", "score", score=0.5, challenger_score=challenger)
    return Promotion(NAME, "2", "score", challenger, "1", champion, 0.0, baseline, size)


def test_an_unsound_evaluation_stops_a_promotion_that_the_scores_would_allow() -> None:
    enough, few = EvaluationSize(30, 30, "test rows"), EvaluationSize(29, 30, "test rows")

    assert judged(0.9, 0.6, enough).promoted and judged(0.9, 0.6).promoted
    assert not judged(0.9, 0.6, few).promoted
    assert judged(0.9, 0.6, few).decision.startswith(
        "not promoted version 2, as its evaluation is unsound: it was scored on 29 test rows,"
        " fewer than the 30 needed"
    )
    assert judged(float("nan"), None).unsound == (
        "its score, challenger score is not a finite number"
    )
    assert not judged(0.9, float("inf"), enough).promoted


def test_the_evaluation_verdict_is_a_tag_of_the_version(local_mlflow: LocalMlflow) -> None:
    promotion = register_and_promote(
        logged_constant(0.9),
        NAME,
        "score",
        0.9,
        loaded_probability,
        0.0,
        Baseline("coin", "score", score=0.5, challenger_score=0.9),
        evaluation=EvaluationSize(3, 30, "test rows"),
    )

    tags = local_mlflow.client().get_model_version(NAME, promotion.version).tags
    assert tags["promoted"] == "false" and tags["evaluated"] == "3"
    assert tags["evaluation_unsound"] == "it was scored on 3 test rows, fewer than the 30 needed"
    assert champion_version(NAME) is None
