"""Sentiment assets end to end on demo reviews: MLflow runs, registry, alias, predictions."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import mlflow
import pandas as pd
import pytest

from dataplatform.catalog.ml_models import model_urn
from dataplatform.catalog.sink import DataHubSink, SinkKind
from dataplatform.cleaning.tables import REVIEWS
from dataplatform.defs.cleaning.assets import build_cleaned_asset, landed_reviews_cleaning
from dataplatform.defs.ingestion.assets import build_raw_asset
from dataplatform.defs.models import sentiment_assets as sentiment_assets_module
from dataplatform.defs.models.sentiment_assets import (
    EMBEDDINGS_KEY,
    LABELLED_ROC_AUC,
    MODEL_NAME,
    PREDICTIONS_KEY,
    REVIEWS_KEY,
    SENTIMENT_MODEL_KEY,
    sentiment_assets,
)
from dataplatform.defs.quality.assets import quality_key
from dataplatform.demo_api import DemoApiServer
from dataplatform.demo_api.endpoints import ENDPOINTS_BY_NAME
from dataplatform.models.cards import CARD_JSON, CARD_MARKDOWN
from dataplatform.models.registry import CHAMPION, champion_uri
from dataplatform.models.tracking import MlflowTracking
from dataplatform.partitions import daily_partitions
from dataplatform.quality.reports import ReportStore
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from dataplatform.resources.source_api import SourceApiClient
from platform_tests.catalog.test_ml_models import read_lite
from platform_tests.events import materialization_metadata
from platform_tests.models.conftest import LocalMlflow

DAYS = ("2026-03-02", "2026-03-03", "2026-03-04")
SMALL_EMBEDDINGS = {"vector_size": 50, "epochs": 30, "min_count": 1}
SMALL_CANDIDATES = {"gradient_boosting_estimators": 30, "mlp_hidden_units": 16, "mlp_max_iter": 100}
# A deliberately worse model: one-dimensional vectors from a single pass, 40 training rows,
# one boosting round, one MLP epoch, a heavily regularised SVM.
WORSE_EMBEDDINGS = {"vector_size": 1, "epochs": 1, "min_count": 1}
WORSE_TRAINING = {
    "max_training_rows": 40,
    "gradient_boosting_estimators": 1,
    "mlp_max_iter": 1,
    "svm_c": 0.0001,
}
CLEANING_INPUTS = [
    *(
        dg.AssetSpec(["cleaned", name], partitions_def=daily_partitions)
        for name in ("users", "tracks")
    ),
    dg.AssetSpec(
        ["cleaned", "landed_reviews"], partitions_def=landed_reviews_cleaning.partitions_def
    ),
]


@pytest.fixture(scope="module")
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="module")
def cleaned_reviews(
    demo_api: DemoApiServer, instance: dg.DagsterInstance, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Three days of demo reviews, extracted and cleaned once for the module."""
    data = tmp_path_factory.mktemp("cleaned")
    raw, clean = build_raw_asset(ENDPOINTS_BY_NAME["reviews"]), build_cleaned_asset(REVIEWS)
    for day in DAYS:
        result = dg.materialize(
            [raw, clean, *CLEANING_INPUTS],
            selection=[*raw.keys, *clean.keys],
            partition_key=day,
            instance=instance,
            resources={
                "io_manager": ParquetIOManager(base_path=str(data)),
                "source_api": SourceApiClient(base_url=demo_api.url),
            },
        )
        assert result.success
    return data


@pytest.fixture
def data(cleaned_reviews: Path, tmp_path: Path) -> Path:
    shutil.copytree(cleaned_reviews, tmp_path / "data")
    return tmp_path / "data"


def model_resources(data: Path, mlflow: MlflowTracking) -> dict[str, object]:
    return {
        "io_manager": ParquetIOManager(base_path=str(data)),
        "mlflow": mlflow,
        "datahub": DataHubSink(
            kind=SinkKind.LITE,
            lite_path=str(data / "catalog" / "lite.sqlite"),
            spool_dir=str(data / "catalog" / "spool"),
        ),
        "quality_reports": ReportStore(base_path=str(data), sample_size=300),
    }


def train(
    data: Path,
    instance: dg.DagsterInstance,
    mlflow: MlflowTracking,
    embeddings: dict = SMALL_EMBEDDINGS,
    **training: object,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [dg.AssetSpec(REVIEWS_KEY, partitions_def=daily_partitions), *sentiment_assets],
        selection=[EMBEDDINGS_KEY, SENTIMENT_MODEL_KEY],
        instance=instance,
        resources=model_resources(data, mlflow),
        run_config=dg.RunConfig(
            ops={
                "models__review_embeddings": {"config": embeddings},
                "models__sentiment_model": {"config": {**SMALL_CANDIDATES, **training}},
            }
        ),
        raise_on_error=False,
    )


def predict(
    data: Path, instance: dg.DagsterInstance, mlflow: MlflowTracking, day: str
) -> pd.DataFrame:
    result = dg.materialize(
        [dg.AssetSpec(REVIEWS_KEY, partitions_def=daily_partitions), *sentiment_assets],
        selection=[PREDICTIONS_KEY],
        partition_key=day,
        instance=instance,
        resources=model_resources(data, mlflow),
    )
    assert result.success
    metadata = materialization_metadata(result, *PREDICTIONS_KEY.path)
    assert 0 <= metadata[LABELLED_ROC_AUC].value <= 1  # what the degradation sensor reads
    return pd.read_parquet(data / "models" / "sentiment_predictions" / f"{day}.parquet")


def model_metadata(result: dg.ExecuteInProcessResult) -> dict:
    return {
        name: value.value
        for name, value in materialization_metadata(result, *SENTIMENT_MODEL_KEY.path).items()
    }


def checks(result: dg.ExecuteInProcessResult) -> dict[str, tuple[bool, str]]:
    """Each check's outcome and severity."""
    return {
        check.check_name: (check.passed, check.severity.value)
        for check in result.get_asset_check_evaluations()
    }


def test_the_evaluation_is_checked_on_the_model_and_a_skipped_training_repeats_it(
    data: Path, instance: dg.DagsterInstance, local_mlflow: LocalMlflow
) -> None:
    first = train(data, instance, local_mlflow.resource())
    again = train(data, instance, local_mlflow.resource())

    metadata = model_metadata(first)
    assert metadata["promoted"] is True
    report_passed = metadata["evaluation_checks_failed"] == 0
    expected = {
        "beats_baseline": (True, "WARN"),
        "evaluation_sound": (True, "ERROR"),
        "evaluation_passed": (report_passed, "WARN"),
    }
    assert checks(first) == expected
    assert checks(again) == expected


def test_too_few_test_reviews_fail_an_error_check_and_stop_the_promotion(
    data: Path,
    instance: dg.DagsterInstance,
    local_mlflow: LocalMlflow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sentiment_assets_module, "MIN_TEST_REVIEWS", 1_000_000)

    result = train(data, instance, local_mlflow.resource())

    assert result.success
    metadata = model_metadata(result)
    assert metadata["promoted"] is False
    assert "evaluation is unsound: it was scored on" in metadata["decision"]
    assert checks(result)["evaluation_sound"] == (False, "ERROR")
    assert local_mlflow.client().get_registered_model(MODEL_NAME).aliases == {}


def test_training_is_tracked_registered_and_promoted(
    data: Path, instance: dg.DagsterInstance, local_mlflow: LocalMlflow
) -> None:
    result = train(data, instance, local_mlflow.resource())

    assert result.success
    metadata = model_metadata(result)
    client = local_mlflow.client()
    parent = client.get_run(metadata["mlflow_run_id"])
    assert parent.data.tags["training_data.asset_key"] == "cleaned/reviews"
    assert parent.data.tags["training_data.partition_range"] == f"{DAYS[0]}..{DAYS[-1]}"
    assert int(parent.data.tags["training_data.labelled_rows"]) > 100
    assert parent.data.params["word2vec.vector_size"] == "50"
    candidates = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    assert {run.info.run_name for run in candidates} == {
        "gradient_boosting",
        "svm",
        "neural_network",
    }
    for run in candidates:
        assert {"accuracy", "f1", "roc_auc", "recall_negative", "precision_positive"} <= set(
            run.data.metrics
        )
        artifacts = {artifact.path for artifact in client.list_artifacts(run.info.run_id)}
        assert artifacts == {"confusion_matrix.png", "roc_curve.png"}
    embeddings = {artifact.path for artifact in client.list_artifacts(parent.info.run_id)}
    assert {"review_embeddings", "model_evaluation"} <= embeddings
    assert Path(metadata["evaluation_report"]).stat().st_size < 1_000_000
    assert metadata["evaluation_checks_run"] > 0
    assert metadata["catalog"] == "sent"
    champion = client.get_model_version_by_alias(MODEL_NAME, CHAMPION)
    assert str(champion.version) == metadata["model_version"] == "1"
    assert champion.run_id == parent.info.run_id
    assert metadata["promoted"] is True and metadata["champion_score"] is None
    assert metadata["challenger_score"] > 0.7  # demo reviews' sentiment follows the rating
    table = pd.read_parquet(data / "models" / "sentiment_model.parquet")
    assert len(table) == 3 and table["challenger"].sum() == 1
    assert_the_version_carries_its_card(data, local_mlflow, parent.data.metrics)


def assert_the_version_carries_its_card(
    data: Path, local_mlflow: LocalMlflow, run_metrics: dict[str, float]
) -> None:
    """Version 1's card, with its run in MLflow and as its properties in DataHub Lite."""
    run_id = local_mlflow.client().get_model_version(MODEL_NAME, "1").run_id
    artifacts = {a.path for a in local_mlflow.client().list_artifacts(run_id)}
    assert {CARD_MARKDOWN, CARD_JSON} <= artifacts
    card = mlflow.artifacts.load_dict(f"runs:/{run_id}/{CARD_JSON}")
    assert card["version"] == "1"
    assert card["training_data"]["asset"] == "cleaned/reviews"
    assert card["training_data"]["partitions"] == list(DAYS)
    rows = card["training_data"]["rows"]
    assert rows["reviews"] >= rows["labelled"] == rows["training"] + rows["test"] > 100
    challenger = card["metrics"]
    assert challenger["balanced_accuracy"] == pytest.approx(
        run_metrics["challenger.balanced_accuracy"]
    )
    assert set(card["per_class"]) == {"negative", "positive"}
    assert card["per_class"]["negative"]["recall"] == challenger["recall_negative"]
    assert sum(c["test_rows"] for c in card["per_class"].values()) == rows["test"]
    assert sum(s["test_rows"] for s in card["per_slice"].values()) == rows["test"]
    assert card["baseline"]["name"] == "majority class" and card["baseline"]["score"] == 0.5
    assert card["intended_use"] and card["known_limits"]
    markdown = mlflow.artifacts.load_text(f"runs:/{run_id}/{CARD_MARKDOWN}")
    assert f"partitions {DAYS[0]}..{DAYS[-1]} (3 partitions)" in markdown
    model = read_lite(data / "catalog" / "lite.sqlite", model_urn(MODEL_NAME, "1", "PROD"))
    properties = model["mlModelProperties"]["customProperties"]
    assert properties["card.training_data.partitions"] == f"{DAYS[0]}..{DAYS[-1]} (3 partitions)"
    assert properties["card.training_data.rows.test"] == str(rows["test"])
    assert float(properties["card.class.negative.recall"]) == pytest.approx(
        challenger["recall_negative"], abs=1e-4
    )
    assert properties["card.baseline"] == "majority class"
    assert model["mlModelProperties"]["description"] == markdown
    assert model["intendedUse"]["primaryUses"] == [card["intended_use"]]


def test_training_is_refused_while_a_blocking_check_on_its_data_failed(
    data: Path, local_mlflow: LocalMlflow
) -> None:
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(
            dg.AssetCheckEvaluation(
                asset_key=quality_key(REVIEWS_KEY),
                check_name="percent_of_nulls",
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
            )
        )
        result = train(data, instance, local_mlflow.resource())

    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "quality/cleaned_reviews_report:percent_of_nulls" in str(failure.step_failure_data.error)
    assert not local_mlflow.client().search_registered_models()


def test_worse_model_is_registered_but_not_promoted_and_predictions_follow_the_alias(
    data: Path, instance: dg.DagsterInstance, local_mlflow: LocalMlflow
) -> None:
    assert train(data, instance, local_mlflow.resource()).success

    worse = train(
        data,
        instance,
        local_mlflow.resource(),
        embeddings=WORSE_EMBEDDINGS,
        **WORSE_TRAINING,
    )

    assert worse.success
    metadata = model_metadata(worse)
    assert metadata["model_version"] == "2" and metadata["promoted"] is False
    assert metadata["challenger_score"] < metadata["champion_score"] + metadata["margin"]
    client = local_mlflow.client()
    assert str(client.get_model_version_by_alias(MODEL_NAME, CHAMPION).version) == "1"
    assert client.get_model_version(MODEL_NAME, "2").tags["promoted"] == "false"

    predictions = predict(data, instance, local_mlflow.resource(), DAYS[-1])
    assert set(predictions["model_version"]) == {"1"}
    reviews = pd.read_parquet(data / "cleaned" / "reviews" / f"{DAYS[-1]}.parquet")
    expected = pd.DataFrame(
        mlflow_pyfunc_predict(champion_uri(MODEL_NAME), reviews["text"].tolist())
    )
    assert predictions["positive_probability"].tolist() == pytest.approx(
        expected["positive_probability"].tolist()
    )

    client.set_registered_model_alias(MODEL_NAME, CHAMPION, "2")
    assert set(predict(data, instance, local_mlflow.resource(), DAYS[-1])["model_version"]) == {"2"}


def mlflow_pyfunc_predict(model_uri: str, texts: list[str]) -> pd.DataFrame:
    import mlflow.pyfunc

    return mlflow.pyfunc.load_model(model_uri).predict(pd.DataFrame({"text": texts}))


def test_unreachable_mlflow_fails_at_once_and_registers_nothing(
    data: Path, instance: dg.DagsterInstance, local_mlflow: LocalMlflow
) -> None:
    unreachable = MlflowTracking(tracking_uri="http://127.0.0.1:9", experiment_name="tests")

    result = train(data, instance, unreachable)

    assert not result.success
    assert not result.asset_materializations_for_node("models__sentiment_model")
    errors = " ".join(str(event.event_specific_data) for event in result.all_events)
    assert "MLflow tracking server http://127.0.0.1:9 is unreachable" in errors
    assert local_mlflow.client().search_registered_models() == []


def test_the_majority_class_is_the_baseline_and_a_training_on_the_same_input_is_skipped(
    data: Path, instance: dg.DagsterInstance, local_mlflow: LocalMlflow
) -> None:
    first = train(data, instance, local_mlflow.resource())
    table = pd.read_parquet(data / "models" / "sentiment_model.parquet")

    again = train(data, instance, local_mlflow.resource())

    assert first.success and again.success
    trained, skipped = model_metadata(first), model_metadata(again)
    assert (trained["baseline"], trained["baseline_metric"]) == (
        "majority class",
        "balanced_accuracy",
    )
    assert trained["baseline_score"] == 0.5 < trained["challenger_baseline_metric_score"]
    client = local_mlflow.client()
    assert client.get_model_version(MODEL_NAME, "1").tags["baseline_score"] == "0.500000"
    assert skipped["decision"] == "skipped: no new data since version 1"
    assert [v.version for v in client.search_model_versions(f"name = '{MODEL_NAME}'")] == [1]
    pd.testing.assert_frame_equal(
        pd.read_parquet(data / "models" / "sentiment_model.parquet"), table
    )
