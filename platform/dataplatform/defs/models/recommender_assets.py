"""The recommender as assets: trained on every day of listens, tracked and promoted in MLflow,
described in DataHub, and scored daily for the users active that day from the champion.

Training evaluates a model fitted before a time cut-off on the days after it (precision and
recall at 10, next to the popularity baseline), then fits the model it registers on the
whole history. The registered version becomes `champion` only if its hold-out score beats
the current champion's on the same hold-out by the configured margin.
"""

from collections.abc import Iterator, Mapping
from typing import cast

import dagster as dg
import mlflow
import numpy as np
import pandas as pd
from mlflow.pyfunc import PyFuncModel
from mlflow.pyfunc.model import PythonModel

from dataplatform.catalog.ml_models import describe_model
from dataplatform.catalog.sink import DataHubSink
from dataplatform.models.recommender import (
    RECOMMENDATION_DTYPES,
    TOP_K,
    Recommender,
    candidate_tracks,
    evaluate,
    fit,
    recommend,
    split_by_time,
)
from dataplatform.models.registry import (
    champion_version,
    no_champion_yet,
    promotion_metadata,
    register_and_promote,
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


class RecommendationsConfig(dg.Config):
    model_name: str = DEFAULT_MODEL_NAME


@dg.asset(
    key=RECOMMENDER,
    group_name="models",
    description="Track recommender (truncated SVD of plays), registered and promoted in MLflow.",
    ins={
        "listens": dg.AssetIn(
            LISTENS,
            partition_mapping=dg.AllPartitionMapping(),
            metadata={COLUMNS: TRAINING_COLUMNS, ALLOW_MISSING_PARTITIONS: True},
        )
    },
    kinds={"scikitlearn", "mlflow"},
)
def recommender(
    context: dg.AssetExecutionContext,
    config: RecommenderConfig,
    listens: pd.DataFrame,
    mlflow: MlflowTracking,
    datahub: DataHubSink,
) -> dg.MaterializeResult:
    train, holdout = split_by_time(listens, config.holdout_days)
    evaluation = evaluate(fit(train, config.factors, config.seed), train, holdout)
    model = fit(listens, config.factors, config.seed)
    hyperparameters = {"factors": model.factors, "holdout_days": config.holdout_days}
    metrics = evaluation.as_metrics()
    model_uri = log_training_run(mlflow, listens, model, hyperparameters, metrics)
    promotion = register_and_promote(
        model_uri,
        config.model_name,
        PROMOTION_METRIC,
        metrics[PROMOTION_METRIC],
        lambda champion_uri: champion_score(champion_uri, train, holdout),
        config.margin,
    )
    context.log.info(promotion.decision)
    delivery = describe_model(
        datahub,
        model_name=config.model_name,
        version=promotion.version,
        hyperparameters=hyperparameters,
        metrics=metrics,
        training_assets=[LISTENS],
        description="Top-10 unheard tracks per user from a truncated SVD of the play matrix.",
        model_asset=RECOMMENDER,
    )
    return dg.MaterializeResult(
        metadata={
            **promotion_metadata(promotion),
            **metrics,
            "training_rows": len(listens),
            "model_uri": model_uri,
            "catalog": delivery.status,
        }
    )


def log_training_run(
    tracking: MlflowTracking,
    listens: pd.DataFrame,
    model: Recommender,
    hyperparameters: Mapping[str, object],
    metrics: dict[str, float],
) -> str:
    """One MLflow run (nested in the Dagster run's) with the model as a pyfunc; its URI."""
    plays = cast(pd.DataFrame, listens[["user_id", "track_id"]])
    example = plays.dropna().head(20).astype(np.int64)
    with tracking.start_run(run_name="recommender", nested=True):
        tracking.log_params({**hyperparameters, **training_data_identity(listens)})
        tracking.log_metrics(metrics)
        return log_pyfunc("recommender", RecommenderModel(model), example, PACKAGES)


def training_data_identity(listens: pd.DataFrame) -> dict[str, str | int]:
    times = listens["listened_at"]
    return {
        "training_asset": LISTENS.to_user_string(),
        "training_from": times.min().date().isoformat() if len(times) else "",
        "training_to": times.max().date().isoformat() if len(times) else "",
        "training_rows": len(listens),
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
    return mlflow.pyfunc.load_model(f"models:/{model_name}/{version}")
