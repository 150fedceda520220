"""Recommender assets end to end on demo listens: MLflow run, registry, champion alias,
daily recommendations from the alias, and the model in DataHub Lite with its lineage."""

from pathlib import Path

import dagster as dg
import mlflow
import pandas as pd
import pytest
from datahub.lite.lite_util import get_datahub_lite

from dataplatform.catalog.ml_models import model_urn
from dataplatform.catalog.sink import DataHubSink, SinkKind
from dataplatform.defs.models.recommender_assets import (
    LISTENS,
    RecommenderConfig,
    recommendations,
    recommender,
)
from dataplatform.models.recommender import CANDIDATE_TRACKS
from dataplatform.partitions import daily_partitions
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from platform_tests.models.conftest import LocalMlflow
from platform_tests.models.test_recommender import demo_listens

MODEL = "track_recommender"
DAY = "2026-01-10"
LISTENS_SPEC = dg.AssetSpec(LISTENS, partitions_def=daily_partitions)


@pytest.fixture(scope="module")
def listens() -> pd.DataFrame:
    return demo_listens(days=10)


@pytest.fixture
def data(tmp_path: Path, listens: pd.DataFrame) -> Path:
    """`cleaned/listens` partitions for the demo API's first ten days."""
    folder = tmp_path / "data" / "cleaned" / "listens"
    folder.mkdir(parents=True)
    for day, frame in listens.groupby(listens["listened_at"].dt.strftime("%Y-%m-%d")):
        frame.to_parquet(folder / f"{day}.parquet")
    return tmp_path / "data"


def resources(data: Path, local_mlflow: LocalMlflow) -> dict[str, object]:
    return {
        "io_manager": ParquetIOManager(base_path=str(data)),
        "mlflow": local_mlflow.resource(),
        "datahub": DataHubSink(
            kind=SinkKind.LITE,
            lite_path=str(data / "catalog" / "lite.sqlite"),
            spool_dir=str(data / "catalog" / "spool"),
        ),
    }


def train(data: Path, local_mlflow: LocalMlflow, **config: object) -> dg.AssetMaterialization:
    result = dg.materialize(
        [LISTENS_SPEC, recommender],
        selection=[recommender],
        resources=resources(data, local_mlflow),
        run_config=dg.RunConfig(
            ops={"models__recommender": RecommenderConfig(holdout_days=3, **config)}
        ),
    )
    [materialization] = result.asset_materializations_for_node("models__recommender")
    return materialization


def recommend_for(data: Path, local_mlflow: LocalMlflow, day: str) -> pd.DataFrame:
    materialize_recommendations(data, local_mlflow, day)
    return read_recommendations(data, day)


def read_recommendations(data: Path, day: str) -> pd.DataFrame:
    return pd.read_parquet(data / "models" / "recommendations" / f"{day}.parquet")


def materialize_recommendations(
    data: Path, local_mlflow: LocalMlflow, day: str
) -> dg.AssetMaterialization:
    result = dg.materialize(
        [LISTENS_SPEC, recommendations],
        selection=[recommendations],
        partition_key=day,
        resources=resources(data, local_mlflow),
    )
    [materialization] = result.asset_materializations_for_node("models__recommendations")
    return materialization


def test_training_logs_registers_promotes_and_describes_the_model(
    data: Path, local_mlflow: LocalMlflow, listens: pd.DataFrame
) -> None:
    materialization = train(data, local_mlflow, factors=4)

    metadata = {key: value.value for key, value in materialization.metadata.items()}
    assert metadata["promoted"] is True
    assert metadata["champion_score"] is None
    assert metadata["model_version"] == "1"
    client = local_mlflow.client()
    champion = client.get_model_version_by_alias(MODEL, "champion")
    assert str(champion.version) == "1"
    run = client.get_run(champion.run_id)
    assert run.data.params["factors"] == "4"
    assert run.data.params["training_asset"] == "cleaned/listens"
    assert run.data.params["training_rows"] == str(len(listens))
    assert run.data.metrics["precision_at_10"] == pytest.approx(metadata["precision_at_10"])
    assert "popularity_precision_at_10" in run.data.metrics
    logged = mlflow.models.get_model_info(f"models:/{MODEL}/1")
    assert logged.signature.inputs.input_names() == ["user_id", "track_id"]
    assert logged.signature.outputs.input_names() == ["user_id", "rank", "track_id", "score"]

    lite = get_datahub_lite(
        {"type": "sqlite", "config": {"file": str(data / "catalog" / "lite.sqlite")}},
        read_only=True,
    )
    try:
        entity = lite.get(model_urn(MODEL, "1", "PROD"), aspects=None)
    finally:
        lite.close()
    training_data = entity["mlModelTrainingData"]["trainingData"]
    assert [item["dataset"] for item in training_data] == [
        "urn:li:dataset:(urn:li:dataPlatform:dagster,cleaned.listens,PROD)"
    ]
    hyperparameters = {p["name"]: p["value"] for p in entity["mlModelProperties"]["hyperParams"]}
    assert hyperparameters["factors"] == "4"


def test_a_worse_model_is_registered_but_the_alias_and_recommendations_stay(
    data: Path, local_mlflow: LocalMlflow, listens: pd.DataFrame
) -> None:
    train(data, local_mlflow, factors=4)
    first = recommend_for(data, local_mlflow, DAY)

    # Many factors overfit listens that carry no taste (see test_recommender): a worse model.
    materialization = train(data, local_mlflow, factors=64)

    metadata = {key: value.value for key, value in materialization.metadata.items()}
    assert metadata["model_version"] == "2"
    assert metadata["promoted"] is False
    assert metadata["challenger_score"] < metadata["champion_score"]
    assert local_mlflow.client().get_model_version_by_alias(MODEL, "champion").version == 1
    pd.testing.assert_frame_equal(recommend_for(data, local_mlflow, DAY), first)


def test_daily_recommendations_are_ten_unheard_tracks_per_user_active_that_day(
    data: Path, local_mlflow: LocalMlflow, listens: pd.DataFrame
) -> None:
    train(data, local_mlflow, factors=4)

    materialization = materialize_recommendations(data, local_mlflow, DAY)

    table = read_recommendations(data, DAY)
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    known_tracks = listens["track_id"].dropna().nunique()
    assert metadata["model_version"] == "1"
    assert metadata["known_tracks"] == known_tracks
    assert metadata["candidate_tracks"] == min(known_tracks, CANDIDATE_TRACKS)
    on_day = listens[listens["listened_at"].dt.strftime("%Y-%m-%d") == DAY]
    assert set(table["user_id"]) == set(on_day["user_id"].dropna())
    assert table.groupby("user_id").size().eq(10).all()
    heard = listens[["user_id", "track_id"]].drop_duplicates()
    assert table.merge(heard, on=["user_id", "track_id"]).empty
    champion = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    expected = champion.predict(on_day[["user_id", "track_id"]].astype("int64"))
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
