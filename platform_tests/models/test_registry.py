"""Champion/challenger promotion: first champion, margin, worse challengers, clean failure."""

import mlflow
import mlflow.pyfunc
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from dataplatform.models.registry import (
    CHAMPION,
    Promotion,
    RegistryError,
    champion_uri,
    load_champion,
    register_and_promote,
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


def promote(probability: float, margin: float = 0.05) -> Promotion:
    return register_and_promote(
        logged_constant(probability), NAME, "score", probability, loaded_probability, margin
    )


def champion(client: MlflowClient) -> str:
    return str(client.get_model_version_by_alias(NAME, CHAMPION).version)


def test_first_model_becomes_champion_and_loads_by_alias(local_mlflow: LocalMlflow) -> None:
    promotion = promote(0.6)

    assert promotion.promoted and promotion.champion_score is None
    assert champion(local_mlflow.client()) == promotion.version == "1"
    assert loaded_probability(champion_uri(NAME)) == 0.6
    assert load_champion(NAME).predict(pd.DataFrame({"x": [1, 2]})).shape == (2, 1)


def test_challenger_must_beat_champion_by_the_margin(local_mlflow: LocalMlflow) -> None:
    promote(0.6)

    worse, not_enough, better = promote(0.5), promote(0.62), promote(0.7)

    assert (worse.promoted, not_enough.promoted, better.promoted) == (False, False, True)
    assert worse.champion_score == not_enough.champion_score == better.champion_score == 0.6
    assert champion(local_mlflow.client()) == better.version == "4"
    versions = local_mlflow.client().search_model_versions(f"name = '{NAME}'")
    assert {str(v.version): v.tags["promoted"] for v in versions} == {
        "1": "true",
        "2": "false",
        "3": "false",
        "4": "true",
    }


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
