"""Recommender assets end to end on demo listens: MLflow run, registry, champion alias,
daily recommendations from the alias, and the model in DataHub Lite with its lineage; a fair
champion/challenger comparison against the popularity baseline, and skipped retraining.

On the first ten demo days, holding out the last three, precision at 10 is 0.0476 for
popularity and 0.0649 / 0.0691 / 0.0759 / 0.0340 / 0.0147 for 2 / 4 / 8 / 32 / 64 factors
(many factors overfit listens that carry little taste: worse models).
"""

import json
from pathlib import Path
from typing import Any, cast

import dagster as dg
import mlflow
import numpy as np
import pandas as pd
import pytest
from datahub.lite.lite_util import get_datahub_lite
from mlflow.exceptions import MlflowException

from dataplatform.catalog.ml_models import model_urn
from dataplatform.catalog.sink import DataHubSink, SinkKind
from dataplatform.defs.models import recommender_assets
from dataplatform.defs.models.recommender_assets import (
    LISTENS,
    PACKAGES,
    TRAINED_UNTIL_TAG,
    RecommenderConfig,
    RecommenderModel,
    recommendations,
    recommender,
)
from dataplatform.models.cards import CARD_JSON, CARD_MARKDOWN
from dataplatform.models.recommender import CANDIDATE_TRACKS, fit
from dataplatform.models.registry import Baseline, register_and_promote
from dataplatform.models.tracking import log_pyfunc
from dataplatform.partitions import daily_partitions
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from platform_tests.models.conftest import LocalMlflow
from platform_tests.models.test_recommender import demo_listens

MODEL = "track_recommender"
DAY = "2026-01-10"
LISTENS_SPEC = dg.AssetSpec(LISTENS, partitions_def=daily_partitions)


@pytest.fixture(scope="module")
def eleven_days() -> pd.DataFrame:
    return demo_listens(days=11)


@pytest.fixture(scope="module")
def listens(eleven_days: pd.DataFrame) -> pd.DataFrame:
    return days_of(eleven_days, last=DAY)


@pytest.fixture
def data(tmp_path: Path, listens: pd.DataFrame) -> Path:
    """`cleaned/listens` partitions for the demo API's first ten days."""
    write_listens(tmp_path / "data", listens)
    return tmp_path / "data"


def days_of(
    listens: pd.DataFrame, first: str = "2026-01-01", last: str = "2026-12-31"
) -> pd.DataFrame:
    day = listens["listened_at"].dt.strftime("%Y-%m-%d")
    return cast(pd.DataFrame, listens[(day >= first) & (day <= last)])


def write_listens(data: Path, listens: pd.DataFrame) -> None:
    folder = data / "cleaned" / "listens"
    folder.mkdir(parents=True, exist_ok=True)
    for day, frame in listens.groupby(listens["listened_at"].dt.strftime("%Y-%m-%d")):
        frame.to_parquet(folder / f"{day}.parquet")


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


def train(data: Path, local_mlflow: LocalMlflow, **config: Any) -> dict[str, Any]:
    """The recommender's materialisation metadata, as plain values."""
    [materialization] = training(data, local_mlflow, **config).asset_materializations_for_node(
        "models__recommender"
    )
    return {key: value.value for key, value in materialization.metadata.items()}


def training(data: Path, local_mlflow: LocalMlflow, **config: Any) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [LISTENS_SPEC, recommender],
        selection=[recommender],
        resources=resources(data, local_mlflow),
        run_config=dg.RunConfig(
            ops={"models__recommender": RecommenderConfig(**{"holdout_days": 3, **config})}
        ),
    )


def checks(result: dg.ExecuteInProcessResult) -> dict[str, tuple[bool, str]]:
    """Each check's outcome and severity."""
    return {
        check.check_name: (check.passed, check.severity.value)
        for check in result.get_asset_check_evaluations()
    }


def champion_version(local_mlflow: LocalMlflow) -> str:
    return str(local_mlflow.client().get_model_version_by_alias(MODEL, "champion").version)


def trained_until(local_mlflow: LocalMlflow, version: str) -> str:
    return local_mlflow.client().get_model_version(MODEL, version).tags[TRAINED_UNTIL_TAG]


def run_params(local_mlflow: LocalMlflow, version: str) -> dict[str, str]:
    """The parameters of the training run that logged `version`."""
    run_id = local_mlflow.client().get_model_version(MODEL, version).run_id
    assert run_id is not None
    return local_mlflow.client().get_run(run_id).data.params


def versions(local_mlflow: LocalMlflow) -> list[str]:
    registered = local_mlflow.client().search_model_versions(f"name = '{MODEL}'")
    return sorted(str(version.version) for version in registered)


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
    metadata = train(data, local_mlflow, factors=4)

    assert metadata["promoted"] is True
    assert metadata["champion_score"] is None
    assert metadata["model_version"] == "1"
    assert metadata["baseline"] == "popularity"
    assert metadata["baseline_score"] == metadata["popularity_precision_at_10"]
    assert metadata["challenger_score"] == metadata["precision_at_10"] > metadata["baseline_score"]
    assert str(metadata["decision"]).startswith("promoted version 1 (first champion):")
    client = local_mlflow.client()
    champion = client.get_model_version_by_alias(MODEL, "champion")
    assert str(champion.version) == "1"
    assert champion.tags["decision"] == metadata["decision"]
    assert float(champion.tags["baseline_score"]) == pytest.approx(metadata["baseline_score"])
    run = client.get_run(champion.run_id)
    assert run.data.tags["promotion.decision"] == metadata["decision"]
    assert run.data.params["factors"] == "4"
    assert run.data.params["training_asset"] == "cleaned/listens"
    assert run.data.params["training_to"] < run.data.params["holdout_from"] == "2026-01-08"
    rows = int(run.data.params["training_rows"]) + int(run.data.params["holdout_rows"])
    assert rows == len(listens) == metadata["training_rows"] + metadata["holdout_rows"]
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
    assert_the_card_says_what_the_version_was_trained_on(entity, champion.run_id, metadata)


def assert_the_card_says_what_the_version_was_trained_on(
    entity: dict, run_id: str | None, metadata: dict[str, Any]
) -> None:
    """The card with the version's run (the nested run that logged the model) and in DataHub."""
    card = mlflow.artifacts.load_dict(f"runs:/{run_id}/{CARD_JSON}")
    days = [f"2026-01-{day:02d}" for day in range(1, 11)]
    assert card["training_data"]["partitions"] == days
    assert card["training_data"]["rows"] == {
        "listens": metadata["training_rows"] + metadata["holdout_rows"],
        "training": metadata["training_rows"],
        "hold_out": metadata["holdout_rows"],
    }
    assert card["metrics"]["precision_at_10"] == pytest.approx(metadata["precision_at_10"])
    assert card["baseline"] == {
        "name": "popularity",
        "metric": "precision_at_10",
        "score": pytest.approx(metadata["baseline_score"]),
        "model_score": pytest.approx(metadata["precision_at_10"]),
    }
    slices = card["per_slice"]
    assert sum(s["users"] for s in slices.values()) == metadata["evaluated_users"]
    markdown = mlflow.artifacts.load_text(f"runs:/{run_id}/{CARD_MARKDOWN}")
    assert "users with 1-2 plays before" in markdown
    properties = entity["mlModelProperties"]["customProperties"]
    assert properties["card.training_data.partitions"] == f"{days[0]}..{days[-1]} (10 partitions)"
    assert properties["card.training_data.rows.training"] == str(metadata["training_rows"])
    assert properties["card.baseline"] == "popularity"
    assert set(json.loads(entity["mlModelQuantitativeAnalyses"]["intersectionalResults"])) == set(
        slices
    )


def test_a_first_model_that_loses_to_popularity_is_registered_but_never_champion(
    data: Path, local_mlflow: LocalMlflow
) -> None:
    metadata = train(data, local_mlflow, factors=64, popularity_weights=[0.0])

    assert metadata["model_version"] == "1" and metadata["promoted"] is False
    assert metadata["challenger_score"] < metadata["baseline_score"]
    assert "does not beat the baseline" in str(metadata["decision"])
    assert versions(local_mlflow) == ["1"]
    with pytest.raises(MlflowException, match="champion"):
        champion_version(local_mlflow)
    scoring = dg.materialize(
        [LISTENS_SPEC, recommendations],
        selection=[recommendations],
        partition_key=DAY,
        resources=resources(data, local_mlflow),
    )
    assert scoring.asset_materializations_for_node("models__recommendations") == []


def test_losing_to_popularity_is_a_warning_check_on_the_model(
    data: Path, local_mlflow: LocalMlflow
) -> None:
    result = training(data, local_mlflow, factors=64, popularity_weights=[0.0])

    assert checks(result) == {
        "beats_baseline": (False, "WARN"),
        "evaluation_sound": (True, "ERROR"),
    }


def test_too_few_hold_out_users_fail_an_error_check_and_stop_the_promotion(
    data: Path, local_mlflow: LocalMlflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recommender_assets, "MIN_HOLDOUT_USERS", 1_000_000)

    result = training(data, local_mlflow, factors=8)

    [materialization] = result.asset_materializations_for_node("models__recommender")
    assert materialization.metadata["promoted"].value is False
    decision = str(materialization.metadata["decision"].value)
    assert "evaluation is unsound: it was scored on" in decision
    assert "fewer than the 1000000 needed" in decision
    assert checks(result)["evaluation_sound"] == (False, "ERROR")
    with pytest.raises(MlflowException, match="champion"):
        champion_version(local_mlflow)


def test_a_skipped_training_repeats_the_checks_of_the_version_it_keeps(
    data: Path, local_mlflow: LocalMlflow
) -> None:
    training(data, local_mlflow, factors=64, popularity_weights=[0.0])

    skipped = training(data, local_mlflow, factors=64, popularity_weights=[0.0])

    assert checks(skipped) == {
        "beats_baseline": (False, "WARN"),
        "evaluation_sound": (True, "ERROR"),
    }


def test_a_planted_better_model_is_promoted_on_the_same_hold_out(
    data: Path, local_mlflow: LocalMlflow
) -> None:
    train(data, local_mlflow, factors=2)

    metadata = train(data, local_mlflow, factors=8)

    assert metadata["model_version"] == "2" and metadata["promoted"] is True
    assert metadata["champion_version"] == "1"
    assert metadata["baseline_score"] < metadata["champion_score"] < metadata["challenger_score"]
    assert champion_version(local_mlflow) == "2"


def test_a_worse_model_is_registered_but_the_alias_and_recommendations_stay(
    data: Path, local_mlflow: LocalMlflow
) -> None:
    train(data, local_mlflow, factors=4)
    first = recommend_for(data, local_mlflow, DAY)

    metadata = train(data, local_mlflow, factors=64)

    assert metadata["model_version"] == "2"
    assert metadata["promoted"] is False
    assert metadata["challenger_score"] < metadata["champion_score"]
    assert champion_version(local_mlflow) == "1"
    pd.testing.assert_frame_equal(recommend_for(data, local_mlflow, DAY), first)


def test_an_equal_model_does_not_take_the_alias(
    data: Path, local_mlflow: LocalMlflow, listens: pd.DataFrame
) -> None:
    train(data, local_mlflow, factors=4)
    # A new row without a track: new data, so a training, but the very same model.
    without_track = listens.head(1).assign(track_id=pd.array([None], dtype="Int64"))
    write_listens(data, pd.concat([days_of(listens, last="2026-01-01"), without_track]))

    metadata = train(data, local_mlflow, factors=4)

    assert metadata["model_version"] == "2" and metadata["promoted"] is False
    assert metadata["challenger_score"] == metadata["champion_score"]
    assert "does not beat champion version 1" in str(metadata["decision"])
    assert champion_version(local_mlflow) == "1"


def test_training_again_on_the_same_listens_is_skipped(
    data: Path, local_mlflow: LocalMlflow
) -> None:
    train(data, local_mlflow, factors=4)

    metadata = train(data, local_mlflow, factors=4)

    assert metadata["decision"] == "skipped: no new data since version 1"
    assert metadata["model_version"] == "1" and metadata["promoted"] is False
    assert versions(local_mlflow) == ["1"] and champion_version(local_mlflow) == "1"


def test_a_new_day_is_trained_on_and_compared_with_the_champion(
    tmp_path: Path, local_mlflow: LocalMlflow, listens: pd.DataFrame
) -> None:
    data = tmp_path / "data"
    write_listens(data, days_of(listens, last="2026-01-09"))
    train(data, local_mlflow, factors=4)
    write_listens(data, days_of(listens, first=DAY))

    metadata = train(data, local_mlflow, factors=4)

    assert metadata["model_version"] == "2" and metadata["champion_version"] == "1"
    assert metadata["champion_score"] is not None
    assert run_params(local_mlflow, "2")["holdout_from"] == "2026-01-08"
    assert trained_until(local_mlflow, "1") < "2026-01-07" < trained_until(local_mlflow, "2")


def test_after_a_short_history_the_hold_out_never_reaches_back_into_the_champions_data(
    tmp_path: Path, local_mlflow: LocalMlflow, listens: pd.DataFrame
) -> None:
    # Seven days are too few to hold out seven: the first model holds out the last fifth.
    data = tmp_path / "data"
    write_listens(data, days_of(listens, last="2026-01-07"))
    first = train(data, local_mlflow, factors=4, holdout_days=7)
    write_listens(data, days_of(listens, first="2026-01-08", last="2026-01-08"))

    # Seven days before the eighth would begin on the 2nd, inside what the champion saw.
    second = train(data, local_mlflow, factors=4, holdout_days=7)

    assert first["promoted"] is True and second["champion_version"] == "1"
    assert trained_until(local_mlflow, "2") == trained_until(local_mlflow, "1")
    params = run_params(local_mlflow, "2")
    assert (params["holdout_from"], params["holdout_to"]) == ("2026-01-06", "2026-01-08")


def test_a_champion_without_its_training_end_is_held_to_the_days_after_its_last_one(
    data: Path, local_mlflow: LocalMlflow, listens: pd.DataFrame, eleven_days: pd.DataFrame
) -> None:
    # Versions registered before `trained_until` were refitted on every listen to their last day.
    with mlflow.start_run(run_name="recommender"):
        mlflow.log_param("training_to", DAY)
        plays = cast(pd.DataFrame, listens[["user_id", "track_id"]]).dropna().head(5)
        model = RecommenderModel(fit(listens, 4))
        uri = log_pyfunc("recommender", model, plays.astype(np.int64), PACKAGES)
    register_and_promote(
        uri,
        MODEL,
        "precision_at_10",
        challenger_score=1.0,
        score_champion=lambda champion_uri: 0.0,
        margin=0.0,
        baseline=Baseline("none", "precision_at_10", score=0.0, challenger_score=1.0),
    )

    skipped = train(data, local_mlflow, factors=4)
    write_listens(data, days_of(eleven_days, first="2026-01-11"))
    trained = train(data, local_mlflow, factors=4)

    assert skipped["decision"] == (
        "skipped: no listens newer than those champion version 1 was fitted on"
    )
    assert trained["model_version"] == "2" and trained["champion_score"] is not None
    params = run_params(local_mlflow, "2")
    assert params["holdout_from"] == params["holdout_to"] == "2026-01-11"


def test_daily_recommendations_are_ten_unheard_tracks_per_user_active_that_day(
    data: Path, local_mlflow: LocalMlflow, listens: pd.DataFrame
) -> None:
    train(data, local_mlflow, factors=4)

    materialization = materialize_recommendations(data, local_mlflow, DAY)

    table = read_recommendations(data, DAY)
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    # Fitted on the days before the hold-out: the tracks first played in it are unknown.
    known_tracks = days_of(listens, last="2026-01-07")["track_id"].dropna().nunique()
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
