"""Champion/challenger promotion in the MLflow model registry, by the `champion` alias."""

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import mlflow
import mlflow.pyfunc
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PyFuncModel
from mlflow.tracking import MlflowClient

CHAMPION = "champion"


class RegistryError(RuntimeError):
    """Registration or promotion failed; no half-registered version was left behind."""


@dataclass(frozen=True)
class Promotion:
    model_name: str
    version: str
    metric: str
    challenger_score: float
    champion_score: float | None
    margin: float
    promoted: bool

    @property
    def decision(self) -> str:
        if self.champion_score is None:
            return f"promoted version {self.version}: first champion"
        comparison = f"{self.challenger_score:.4f} vs champion {self.champion_score:.4f}"
        verdict = "promoted" if self.promoted else "kept the champion over"
        return (
            f"{verdict} version {self.version}: {self.metric} {comparison} (margin {self.margin})"
        )


def promotion_metadata(promotion: Promotion) -> dict[str, str | bool | float | dg.MetadataValue]:
    """The promotion decision as Dagster materialisation metadata."""
    champion = promotion.champion_score
    return {
        "model_name": promotion.model_name,
        "model_version": str(promotion.version),
        "promoted": promotion.promoted,
        "decision": promotion.decision,
        "promotion_metric": promotion.metric,
        "challenger_score": promotion.challenger_score,
        "champion_score": dg.MetadataValue.null() if champion is None else champion,
        "margin": promotion.margin,
    }


def champion_uri(model_name: str) -> str:
    return f"models:/{model_name}@{CHAMPION}"


def champion_version(model_name: str, client: MlflowClient | None = None) -> ModelVersion | None:
    client = client or MlflowClient()
    try:
        return client.get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def no_champion_yet(model_name: str) -> str:
    return (
        f"Registered model {model_name!r} has no {CHAMPION!r} version yet: train it first"
        " (train_models_job)"
    )


def load_champion(model_name: str) -> PyFuncModel:
    if champion_version(model_name) is None:
        raise RegistryError(no_champion_yet(model_name))
    return mlflow.pyfunc.load_model(champion_uri(model_name))


def register_and_promote(
    model_uri: str,
    model_name: str,
    metric: str,
    challenger_score: float,
    score_champion: Callable[[str], float],
    margin: float,
    client: MlflowClient | None = None,
) -> Promotion:
    """Registers `model_uri` as a new version; it becomes champion only if it beats the current
    champion (scored by `score_champion` on the challenger's held-out set) by `margin`."""
    client = client or MlflowClient()
    # Score before registering, so a failure here leaves the registry untouched.
    champion_score = (
        score_champion(champion_uri(model_name)) if champion_version(model_name, client) else None
    )
    promoted = champion_score is None or challenger_score >= champion_score + margin
    version = _register(model_uri, model_name, client)
    promotion = Promotion(
        model_name, version, metric, challenger_score, champion_score, margin, promoted
    )
    try:
        _record_decision(promotion, client)
        if promoted:
            client.set_registered_model_alias(model_name, CHAMPION, version)
    except Exception as error:
        client.delete_model_version(model_name, version)
        raise RegistryError(
            f"Could not record or promote {model_name} ({error}); version {version} was deleted"
            " and the champion left as it was"
        ) from error
    return promotion


def _register(model_uri: str, model_name: str, client: MlflowClient) -> str:
    try:
        if not _registered_model_exists(model_name, client):
            client.create_registered_model(model_name)
        # An MLflow server only accepts a `models:/<id>` source together with its model id.
        logged = client.get_logged_model(model_uri.removeprefix("models:/"))
        version = client.create_model_version(
            model_name, model_uri, run_id=logged.source_run_id, model_id=logged.model_id
        )
        return str(version.version)
    except MlflowException as error:
        raise RegistryError(f"Could not register {model_uri} as {model_name}: {error}") from error


def _registered_model_exists(model_name: str, client: MlflowClient) -> bool:
    try:
        client.get_registered_model(model_name)
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            return False
        raise
    return True


def _record_decision(promotion: Promotion, client: MlflowClient) -> None:
    tags = {
        "metric": promotion.metric,
        "challenger_score": f"{promotion.challenger_score:.6f}",
        "champion_score": "none"
        if promotion.champion_score is None
        else f"{promotion.champion_score:.6f}",
        "margin": str(promotion.margin),
        "promoted": str(promotion.promoted).lower(),
    }
    for key, value in tags.items():
        client.set_model_version_tag(promotion.model_name, promotion.version, key, value)
