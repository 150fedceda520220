"""The recommender as assets: trained on the history of listens, tracked and promoted in
MLflow, described in DataHub, and scored daily for the users active that day from the champion.

The comparison is fair: the model is fitted on the listens before a time cut-off and scored
on the days after it (precision at 10), next to the popularity baseline fitted on the same
listens and to the current champion scored on the same days, from the same history. The
version registered is the model that was scored (given every listen as the history it serves
from, see `with_history`), never a refit that has seen the hold-out. Each version records
the newest listen it was fitted on, and the hold-out begins after the champion's, so the
champion is never scored on plays it was fitted on either. A version becomes `champion` only
if it beats the baseline and strictly beats the champion by the margin. A training on the
listens and settings of the latest version is skipped, as it could only repeat it.
"""

from collections.abc import Iterator
from typing import cast

import dagster as dg
import mlflow
import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.pyfunc import PyFuncModel
from mlflow.pyfunc.model import PythonModel
from mlflow.tracking import MlflowClient
from pydantic import Field

from dataplatform.catalog.ml_models import describe_model
from dataplatform.catalog.sink import DataHubSink
from dataplatform.models.cards import ModelCard, TrainingData, log_card
from dataplatform.models.checks import (
    BEATS_BASELINE,
    EVALUATION_SOUND,
    promotion_check_specs,
    promotion_checks,
    recorded_checks,
)
from dataplatform.models.recommender import (
    POPULARITY_WEIGHTS,
    RECOMMENDATION_DTYPES,
    TOP_K,
    Evaluation,
    Recommender,
    candidate_tracks,
    evaluate,
    evaluate_by_history,
    fit_blended,
    recommend,
    split_by_time,
    with_history,
)
from dataplatform.models.registry import (
    FINGERPRINT_TAG,
    Baseline,
    EvaluationSize,
    Promotion,
    champion_version,
    no_champion_yet,
    promotion_metadata,
    register_and_promote,
    skipped_metadata,
    training_fingerprint,
    unchanged_since,
    version_uri,
)
from dataplatform.models.tracking import MlflowTracking, log_pyfunc
from dataplatform.partitions import daily_partitions
from dataplatform.resources.parquet_io_manager import ALLOW_MISSING_PARTITIONS, COLUMNS

LISTENS = dg.AssetKey(["cleaned", "listens"])
RECOMMENDER = dg.AssetKey(["models", "recommender"])
RECOMMENDATIONS = dg.AssetKey(["models", "recommendations"])
TRAINING_COLUMNS = ["user_id", "track_id", "listened_at"]
PACKAGES = ["scikit-learn", "scipy", "pandas", "numpy"]
PROMOTION_METRIC = f"precision_at_{TOP_K}"
DEFAULT_MODEL_NAME = "track_recommender"
TRAINED_UNTIL_TAG = "trained_until"  # the time of the newest listen a version was fitted on
# Fewer users with first plays in the hold-out than this make precision at 10 too noisy.
MIN_HOLDOUT_USERS = 20
HOLDOUT_USERS = "hold-out users"


class RecommenderModel(PythonModel):
    """The fitted recommender as an MLflow pyfunc: plays in, top-10 per user out."""

    def __init__(self, model: Recommender) -> None:
        self.model = model

    def predict(
        self, context: object, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        return recommend(self.model, model_input)


class RecommenderConfig(dg.Config):
    model_name: str = DEFAULT_MODEL_NAME
    factors: int = 16
    holdout_days: int = 7
    margin: float = 0.0
    seed: int = 0
    # Popularity's weights in the blend, the best on a validation split is kept; [0.0] is off.
    popularity_weights: list[float] = Field(default_factory=lambda: list(POPULARITY_WEIGHTS))

    def fitting_settings(self) -> dict[str, object]:
        """What shapes the model fitted on given listens (the margin only judges it)."""
        return {
            "factors": self.factors,
            "holdout_days": self.holdout_days,
            "seed": self.seed,
            "popularity_weights": self.popularity_weights,
        }


class RecommendationsConfig(dg.Config):
    model_name: str = DEFAULT_MODEL_NAME


@dg.asset(
    key=RECOMMENDER,
    group_name="models",
    description=(
        "Track recommender (truncated SVD of plays), registered in MLflow and promoted when it"
        " beats the popularity baseline and the champion on listens neither was fitted on."
    ),
    ins={
        "listens": dg.AssetIn(
            LISTENS,
            partition_mapping=dg.AllPartitionMapping(),
            metadata={COLUMNS: TRAINING_COLUMNS, ALLOW_MISSING_PARTITIONS: True},
        )
    },
    kinds={"scikitlearn", "mlflow"},
    check_specs=promotion_check_specs(RECOMMENDER, HOLDOUT_USERS, MIN_HOLDOUT_USERS),
)
def recommender(
    context: dg.AssetExecutionContext,
    config: RecommenderConfig,
    listens: pd.DataFrame,
    mlflow: MlflowTracking,
    datahub: DataHubSink,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    fingerprint = training_fingerprint(listens, config.fitting_settings())
    champion = champion_version(config.model_name)
    skipped = reason_to_skip(config.model_name, fingerprint, listens, champion)
    if skipped is not None:
        version, metadata = skipped
        context.log.info(metadata["decision"])
        yield dg.MaterializeResult(metadata=metadata)
        checks = [BEATS_BASELINE, EVALUATION_SOUND]
        yield from recorded_checks(str(version.version), version.tags, checks)
        return
    seen_until = None if champion is None else trained_until(champion)
    train, holdout = split_by_time(listens, config.holdout_days, seen_until)
    model = fit_blended(
        train, config.factors, config.seed, config.holdout_days, tuple(config.popularity_weights)
    )
    evaluation = evaluate(model, train, holdout)
    metrics = evaluation.as_metrics()
    served = with_history(model, listens)
    model_uri, run_id = log_training_run(mlflow, train, holdout, served, config, metrics)
    promotion = register_and_promote(
        model_uri,
        config.model_name,
        PROMOTION_METRIC,
        metrics[PROMOTION_METRIC],
        lambda champion_uri: champion_score(champion_uri, train, holdout),
        config.margin,
        popularity_baseline(evaluation),
        tags={
            FINGERPRINT_TAG: fingerprint,
            TRAINED_UNTIL_TAG: train["listened_at"].max().isoformat(),
        },
        evaluation=EvaluationSize(evaluation.model.users, MIN_HOLDOUT_USERS, HOLDOUT_USERS),
    )
    context.log.info(promotion.decision)
    card = recommender_card(promotion, listens, train, holdout, model, metrics)
    log_card(card)
    delivery = describe_model(
        datahub,
        model_name=config.model_name,
        version=promotion.version,
        hyperparameters=hyperparameters(model, config),
        metrics=metrics,
        training_assets=[LISTENS],
        description=(
            "Top-10 unheard tracks per user from a truncated SVD of the play matrix, blended"
            " with popularity by a weight chosen on a validation split."
        ),
        model_asset=RECOMMENDER,
        card=card,
    )
    yield dg.MaterializeResult(
        metadata={
            **promotion_metadata(promotion),
            **metrics,
            "training_rows": len(train),
            "holdout_rows": len(holdout),
            "model_uri": model_uri,
            **mlflow.run_link(run_id),
            "catalog": delivery.status,
            "model_card": dg.MetadataValue.md(card.markdown()),
        }
    )
    yield from promotion_checks(promotion)


INTENDED_USE = (
    "Daily batch recommendations: ten tracks a user has not played, for the users active that"
    " day, from their plays so far. A ranking for discovery features, not a prediction of what"
    " a user will play next."
)
KNOWN_LIMITS = (
    "Taste is learnt from co-listening alone: no genres, audio or text.",
    "Listeners with one or two plays tell the factors little; popularity is blended in with"
    " a weight chosen on a validation split, and users with no plays get the most popular.",
    "Only the 5,000 most played tracks are candidates; tracks first played after the training"
    " cut-off are never recommended until a retraining.",
    "Judged on the last days before training (precision at 10 on first plays), on the"
    " platform's demo listens unless production data is loaded.",
)


def recommender_card(
    promotion: Promotion,
    listens: pd.DataFrame,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    model: Recommender,
    metrics: dict[str, float],
) -> ModelCard:
    """The version's card: the listens' days and rows, scores overall and by history length."""
    days = listens["listened_at"].dt.strftime("%Y-%m-%d")
    return ModelCard(
        model_name=promotion.model_name,
        version=promotion.version,
        summary="Top-10 unheard tracks per user from a truncated SVD of the play matrix,"
        " blended with popularity.",
        training_data=TrainingData(
            asset=LISTENS.to_user_string(),
            partitions=tuple(sorted(days.unique())),
            rows={"listens": len(listens), "training": len(train), "hold_out": len(holdout)},
        ),
        metrics={**metrics, "popularity_weight": model.popularity_weight},
        baseline=promotion.baseline.for_card(),
        decision=promotion.decision,
        intended_use=INTENDED_USE,
        known_limits=KNOWN_LIMITS,
        per_slice={
            f"users with {name} before": slice_scores(evaluation)
            for name, evaluation in evaluate_by_history(model, train, holdout).items()
        },
    )


def slice_scores(evaluation: Evaluation) -> dict[str, float]:
    return {
        "users": float(evaluation.model.users),
        PROMOTION_METRIC: evaluation.model.precision_at_k,
        f"popularity_{PROMOTION_METRIC}": evaluation.popularity.precision_at_k,
    }


def trained_until(version: ModelVersion) -> pd.Timestamp:
    """The time of the newest listen `version` was fitted on."""
    if TRAINED_UNTIL_TAG in version.tags:
        return as_timestamp(version.tags[TRAINED_UNTIL_TAG])
    # Versions registered before the tag were refitted on every listen up to their last day.
    assert version.run_id is not None  # every version is registered from its training run
    last_day = MlflowClient().get_run(version.run_id).data.params["training_to"]
    return as_timestamp(f"{last_day}T23:59:59.999999999+00:00")


def as_timestamp(text: str) -> pd.Timestamp:
    # pandas-stubs allow NaT for any text; these are times the platform wrote
    return cast(pd.Timestamp, pd.Timestamp(text))


def reason_to_skip(
    model_name: str, fingerprint: str, listens: pd.DataFrame, champion: ModelVersion | None
) -> tuple[ModelVersion, dict[str, str | bool]] | None:
    """The version kept and the metadata of a skipped training, if training now could tell
    nothing new."""
    unchanged = unchanged_since(model_name, fingerprint)
    if unchanged is not None:
        return unchanged, skipped_metadata(unchanged)
    if champion is not None and listens["listened_at"].max() <= trained_until(champion):
        reason = f"no listens newer than those champion version {champion.version} was fitted on"
        return champion, skipped_metadata(champion, reason)
    return None


def hyperparameters(model: Recommender, config: RecommenderConfig) -> dict[str, int | float]:
    return {
        "factors": model.factors,
        "holdout_days": config.holdout_days,
        "popularity_weight": model.popularity_weight,
    }


def popularity_baseline(evaluation: Evaluation) -> Baseline:
    """Recommending the most played unheard tracks, fitted on the same listens."""
    return Baseline(
        name="popularity",
        metric=PROMOTION_METRIC,
        score=evaluation.popularity.precision_at_k,
        challenger_score=evaluation.model.precision_at_k,
    )


def log_training_run(
    tracking: MlflowTracking,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    model: Recommender,
    config: RecommenderConfig,
    metrics: dict[str, float],
) -> tuple[str, str]:
    """One MLflow run (nested in the Dagster run's) with the model as a pyfunc; the model's URI
    and the run's id."""
    plays = cast(pd.DataFrame, train[["user_id", "track_id"]])
    example = plays.dropna().head(20).astype(np.int64)
    with tracking.start_run(run_name="recommender", nested=True) as run:
        tracking.log_params(
            {
                **hyperparameters(model, config),
                "training_asset": LISTENS.to_user_string(),
                **time_range("training", train),
                **time_range("holdout", holdout),
            }
        )
        tracking.log_metrics(metrics)
        model_uri = log_pyfunc("recommender", RecommenderModel(model), example, PACKAGES)
        return model_uri, run.info.run_id


def time_range(name: str, listens: pd.DataFrame) -> dict[str, str | int]:
    """First and last day and rows of a non-empty part of the listens."""
    times = listens["listened_at"]
    return {
        f"{name}_from": times.min().date().isoformat(),
        f"{name}_to": times.max().date().isoformat(),
        f"{name}_rows": len(listens),
    }


def champion_score(champion_uri: str, train: pd.DataFrame, holdout: pd.DataFrame) -> float:
    """The champion's score on this run's hold-out, from the same training history."""
    champion = mlflow.pyfunc.load_model(champion_uri).unwrap_python_model().model
    return evaluate(champion, train, holdout).as_metrics()[PROMOTION_METRIC]


@dg.asset(
    key=RECOMMENDATIONS,
    group_name="models",
    partitions_def=daily_partitions,
    description=(
        "Top-10 unheard tracks for each user active on the day, from the champion; skipped"
        " until a first model has been trained."
    ),
    ins={"listens": dg.AssetIn(LISTENS, metadata={COLUMNS: ["user_id", "track_id"]})},
    deps=[RECOMMENDER],
    kinds={"mlflow"},
    output_required=False,
)
def recommendations(
    context: dg.AssetExecutionContext,
    config: RecommendationsConfig,
    listens: pd.DataFrame,
    mlflow: MlflowTracking,  # points MLflow at the tracking store and registry
) -> Iterator[dg.Output[pd.DataFrame]]:
    version = champion_version(config.model_name)
    if version is None:
        context.log.warning(no_champion_yet(config.model_name))
        return
    # The version read above, even if a training moves the alias meanwhile.
    champion = load_model_version(config.model_name, version.version)
    table = champion.predict(listens.dropna().astype(np.int64))
    model = champion.unwrap_python_model().model
    yield dg.Output(
        table.astype(RECOMMENDATION_DTYPES),
        metadata={
            "users": int(table["user_id"].nunique()),
            "model_version": str(version.version),
            "candidate_tracks": len(candidate_tracks(model)),
            "known_tracks": len(model.track_ids),
        },
    )


def load_model_version(model_name: str, version: str | int) -> PyFuncModel:
    return mlflow.pyfunc.load_model(version_uri(model_name, version))
