"""Champion/challenger promotion in the MLflow model registry, by the `champion` alias.

Every challenger is registered as a new version. It takes the alias only if its evaluation is
sound (finite scores, from enough held-out data), it beats its
baseline (what a model that learnt nothing scores) and strictly beats the current champion by
more than the margin, the champion scored by the caller on the same held-out data as the
challenger, data neither was fit on. The decision, the scores and the baseline are tags of
the version and of its MLflow run; the training input's fingerprint is a tag too, so a
training on unchanged input can be skipped.
"""

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import dagster as dg
import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PyFuncModel
from mlflow.tracking import MlflowClient

from dataplatform.models.cards import CardBaseline

CHAMPION = "champion"
FINGERPRINT_TAG = "training_fingerprint"


class RegistryError(RuntimeError):
    """Registration or promotion failed; no half-registered version was left behind."""


@dataclass(frozen=True)
class Baseline:
    """What a model that learnt nothing scores, next to the challenger's score on that metric
    (e.g. recommending the most popular tracks, or always answering the commonest class)."""

    name: str
    metric: str
    score: float
    challenger_score: float

    @property
    def beaten(self) -> bool:
        return self.challenger_score > self.score

    def for_card(self) -> CardBaseline:
        return CardBaseline(self.name, self.metric, self.score, self.challenger_score)


@dataclass(frozen=True)
class EvaluationSize:
    """How much held-out data the scores come from, and the least that a promotion trusts."""

    count: int
    minimum: int
    unit: str  # what is counted, e.g. "test reviews"


@dataclass(frozen=True)
class Promotion:
    model_name: str
    version: str
    metric: str
    challenger_score: float
    champion_version: str | None
    champion_score: float | None
    margin: float
    baseline: Baseline
    evaluation: EvaluationSize | None = None  # None: only the scores' finiteness is judged

    @property
    def unsound(self) -> str | None:
        """Why the evaluation cannot support a promotion (too little data, a score that is not
        a number), or None."""
        size = self.evaluation
        if size is not None and size.count < size.minimum:
            return (
                f"it was scored on {size.count} {size.unit}, fewer than the {size.minimum} needed"
            )
        scores = {
            self.metric: self.challenger_score,
            f"baseline {self.baseline.metric}": self.baseline.score,
            f"challenger {self.baseline.metric}": self.baseline.challenger_score,
            f"champion {self.metric}": self.champion_score,
        }
        broken = [
            name for name, score in scores.items() if score is not None and not math.isfinite(score)
        ]
        return f"its {', '.join(broken)} is not a finite number" if broken else None

    @property
    def beats_champion(self) -> bool:
        # Strictly: a tie keeps the champion, so retraining on the same data changes nothing.
        return self.champion_score is None or (
            self.challenger_score > self.champion_score + self.margin
        )

    @property
    def promoted(self) -> bool:
        return self.unsound is None and self.baseline.beaten and self.beats_champion

    @property
    def decision(self) -> str:
        return f"{self._verdict()}: {self._scores()}"

    def _verdict(self) -> str:
        if self.unsound is not None:
            return (
                f"not promoted version {self.version}, as its evaluation is unsound: {self.unsound}"
            )
        if not self.baseline.beaten:
            return f"not promoted version {self.version}, as it does not beat the baseline"
        if not self.beats_champion:
            return (
                f"not promoted version {self.version}, as it does not beat champion version"
                f" {self.champion_version} by more than the margin"
            )
        first = " (first champion)" if self.champion_score is None else ""
        return f"promoted version {self.version}{first}"

    def _scores(self) -> str:
        champion = "none" if self.champion_score is None else f"{self.champion_score:.4f}"
        baseline = self.baseline
        return (
            f"{self.metric} {self.challenger_score:.4f} vs champion {champion}"
            f" (margin {self.margin}); {baseline.metric} {baseline.challenger_score:.4f} vs"
            f" {baseline.name} baseline {baseline.score:.4f}"
        )


def promotion_metadata(promotion: Promotion) -> dict[str, str | bool | float | dg.MetadataValue]:
    """The promotion decision as Dagster materialisation metadata."""
    return {
        "model_name": promotion.model_name,
        "model_version": str(promotion.version),
        **{key: _metadata_value(value) for key, value in decision_record(promotion).items()},
    }


def decision_record(promotion: Promotion) -> dict[str, str | bool | float | None]:
    """The decision, both scores and the baseline: what the metadata and the tags show."""
    baseline = promotion.baseline
    return {
        "decision": promotion.decision,
        "promoted": promotion.promoted,
        "promotion_metric": promotion.metric,
        "challenger_score": promotion.challenger_score,
        "champion_version": promotion.champion_version,
        "champion_score": promotion.champion_score,
        "margin": promotion.margin,
        "baseline": baseline.name,
        "baseline_metric": baseline.metric,
        "baseline_score": baseline.score,
        "challenger_baseline_metric_score": baseline.challenger_score,
        "evaluation_unsound": promotion.unsound,
        "evaluated": None if promotion.evaluation is None else promotion.evaluation.count,
    }


def _metadata_value(value: str | bool | float | None) -> str | bool | float | dg.MetadataValue:
    return dg.MetadataValue.null() if value is None else value


def skipped_metadata(version: ModelVersion, reason: str | None = None) -> dict[str, str | bool]:
    """Dagster metadata of a training skipped for `reason`: by default, that its input is
    the one `version` was trained on."""
    return {
        "model_name": version.name,
        "model_version": str(version.version),
        "promoted": False,
        "decision": f"skipped: {reason or f'no new data since version {version.version}'}",
    }


def training_fingerprint(
    data: pd.DataFrame, settings: Mapping[str, object], arrays: Sequence[np.ndarray] = ()
) -> str:
    """A hash of the training rows (in any order), of the settings that shape the model and
    of any other input it is fitted from (e.g. word vectors)."""
    hashes = pd.util.hash_pandas_object(data, index=False)  # pyright: ignore[reportAttributeAccessIssue]  # pandas loads `util` lazily
    digest = hashlib.sha256(np.sort(hashes.to_numpy()).tobytes())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def unchanged_since(
    model_name: str, fingerprint: str, client: MlflowClient | None = None
) -> ModelVersion | None:
    """The latest version, if it was trained on input of this fingerprint (else None)."""
    client = client or MlflowClient()
    latest = client.search_model_versions(
        f"name = '{model_name}'", max_results=1, order_by=["version_number DESC"]
    )
    if latest and latest[0].tags.get(FINGERPRINT_TAG) == fingerprint:
        return latest[0]
    return None


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
    baseline: Baseline,
    tags: Mapping[str, str] | None = None,
    client: MlflowClient | None = None,
    evaluation: EvaluationSize | None = None,
) -> Promotion:
    """Registers `model_uri` as a new version tagged with `tags`; it becomes champion only if its
    scores are finite and come from at least `evaluation.minimum` held-out items, and it
    beats `baseline` and the current champion (scored by `score_champion`, given that version's
    URI, on the challenger's held-out data) strictly by more than `margin`."""
    client = client or MlflowClient()
    champion = champion_version(model_name, client)
    # Score before registering, so a failure here leaves the registry untouched.
    champion_score = (
        None if champion is None else score_champion(version_uri(model_name, champion.version))
    )
    registered = _register(model_uri, model_name, tags or {}, client)
    version = str(registered.version)
    promotion = Promotion(
        model_name,
        version,
        metric,
        challenger_score,
        None if champion is None else str(champion.version),
        champion_score,
        margin,
        baseline,
        evaluation,
    )
    try:
        _record_decision(promotion, registered.run_id, client)
        if promotion.promoted:
            client.set_registered_model_alias(model_name, CHAMPION, version)
    except Exception as error:
        client.delete_model_version(model_name, version)
        raise RegistryError(
            f"Could not record or promote {model_name} ({error}); version {version} was deleted"
            " and the champion left as it was"
        ) from error
    return promotion


def version_uri(model_name: str, version: str | int) -> str:
    return f"models:/{model_name}/{version}"


def _register(
    model_uri: str, model_name: str, tags: Mapping[str, str], client: MlflowClient
) -> ModelVersion:
    try:
        if not _registered_model_exists(model_name, client):
            client.create_registered_model(model_name)
        # An MLflow server only accepts a `models:/<id>` source together with its model id.
        logged = client.get_logged_model(model_uri.removeprefix("models:/"))
        return client.create_model_version(
            model_name,
            model_uri,
            run_id=logged.source_run_id,
            tags=dict(tags),
            model_id=logged.model_id,
        )
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


def _record_decision(promotion: Promotion, run_id: str | None, client: MlflowClient) -> None:
    """The decision record as tags of the version, and (prefixed) of the run that logged it."""
    for key, value in decision_record(promotion).items():
        text = _tag_value(value)
        client.set_model_version_tag(promotion.model_name, promotion.version, key, text)
        if run_id is not None:
            client.set_tag(run_id, f"promotion.{key}", text)


def _tag_value(value: str | bool | float | None) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) else f"{value:.6f}"
