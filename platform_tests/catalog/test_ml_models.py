"""Models in DataHub Lite: the group, the version with its hyperparameters, metrics and lineage."""

import json
from pathlib import Path

import dagster as dg
from datahub.lite.lite_util import get_datahub_lite

from dataplatform.catalog.ml_models import describe_model, model_group_urn, model_urn
from dataplatform.catalog.sink import DataHubSink, Delivery
from dataplatform.models.cards import CardBaseline, ModelCard, TrainingData

LISTENS = dg.AssetKey(["cleaned", "listens"])
TRACKS = dg.AssetKey(["cleaned", "tracks"])
MODEL_ASSET = dg.AssetKey(["models", "recommender"])


def read_lite(path: Path, urn: str) -> dict:
    lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(path)}}, read_only=True)
    try:
        return lite.get(urn, aspects=None) or {}
    finally:
        lite.close()


def describe(sink: DataHubSink, version: int, metrics: dict[str, float]) -> Delivery:
    return describe_model(
        sink,
        model_name="track_recommender",
        version=version,
        hyperparameters={"factors": 16, "holdout_days": 7},
        metrics=metrics,
        training_assets=[LISTENS, TRACKS],
        description="Top-10 tracks per user.",
        model_asset=MODEL_ASSET,
    )


def test_a_model_version_lands_in_lite_with_its_group_metrics_and_training_lineage(
    tmp_path: Path,
) -> None:
    lite_path = tmp_path / "lite.sqlite"
    sink = DataHubSink(kind="lite", lite_path=str(lite_path), spool_dir=str(tmp_path / "spool"))

    delivery = describe(sink, 3, {"precision_at_10": 0.12, "recall_at_10": 0.3})

    assert delivery == Delivery("sent", "lite")
    group_urn = model_group_urn("track_recommender", "PROD")
    version_urn = model_urn("track_recommender", "3", "PROD")
    assert version_urn == "urn:li:mlModel:(urn:li:dataPlatform:mlflow,track_recommender_3,PROD)"
    group = read_lite(lite_path, group_urn)["mlModelGroupProperties"]
    assert group["name"] == "track_recommender"
    model = read_lite(lite_path, version_urn)
    properties = model["mlModelProperties"]
    assert properties["version"]["versionTag"] == "3"
    assert properties["groups"] == [group_urn]
    assert {p["name"]: p["value"] for p in properties["hyperParams"]} == {
        "factors": "16",
        "holdout_days": "7",
    }
    assert {m["name"]: float(m["value"]) for m in properties["trainingMetrics"]} == {
        "precision_at_10": 0.12,
        "recall_at_10": 0.3,
    }
    datasets = [sink.naming.dataset_urn(LISTENS), sink.naming.dataset_urn(TRACKS)]
    assert [d["dataset"] for d in model["mlModelTrainingData"]["trainingData"]] == datasets
    [job_urn] = properties["trainingJobs"]
    assert job_urn == sink.naming.job_urn(MODEL_ASSET)
    job = read_lite(lite_path, job_urn)
    assert job["dataJobInputOutput"]["inputDatasets"] == datasets


def test_each_version_is_its_own_model_in_the_same_group(tmp_path: Path) -> None:
    lite_path = tmp_path / "lite.sqlite"
    sink = DataHubSink(kind="lite", lite_path=str(lite_path), spool_dir=str(tmp_path / "spool"))

    describe(sink, 1, {"precision_at_10": 0.1})
    describe(sink, 2, {"precision_at_10": 0.2})

    group_urn = model_group_urn("track_recommender", "PROD")
    for version, precision in (("1", 0.1), ("2", 0.2)):
        properties = read_lite(lite_path, model_urn("track_recommender", version, "PROD"))[
            "mlModelProperties"
        ]
        assert properties["groups"] == [group_urn]
        assert float(properties["trainingMetrics"][0]["value"]) == precision


def test_an_unreachable_catalog_spools_the_model_metadata(tmp_path: Path) -> None:
    sink = DataHubSink(
        kind="rest",
        server="http://127.0.0.1:9",
        spool_dir=str(tmp_path / "spool"),
        timeout_seconds=2.0,
    )

    delivery = describe(sink, 1, {"precision_at_10": 0.1})

    assert delivery.status == "spooled"
    [batch] = sink.spool.pending()
    assert model_urn("track_recommender", "1", "PROD") in batch.read_text()


def test_a_version_with_a_card_carries_it_as_properties_and_model_card_aspects(
    tmp_path: Path,
) -> None:
    lite_path = tmp_path / "lite.sqlite"
    sink = DataHubSink(kind="lite", lite_path=str(lite_path), spool_dir=str(tmp_path / "spool"))
    card = ModelCard(
        model_name="track_recommender",
        version="4",
        summary="Top-10 tracks per user.",
        training_data=TrainingData("cleaned/listens", ("2026-12-04",), {"training": 3567}),
        metrics={"precision_at_10": 0.03},
        baseline=CardBaseline("popularity", "precision_at_10", 0.0252, 0.03),
        decision="promoted version 4",
        intended_use="Daily recommendations.",
        known_limits=("Co-listening only.", "Top 5,000 tracks."),
        per_slice={"users with 1-2 plays before": {"precision_at_10": 0.02}},
    )

    describe_model(
        sink,
        model_name="track_recommender",
        version=4,
        hyperparameters={},
        metrics={"precision_at_10": 0.03},
        training_assets=[LISTENS],
        description="Top-10 tracks per user.",
        card=card,
    )

    model = read_lite(lite_path, model_urn("track_recommender", "4", "PROD"))
    properties = model["mlModelProperties"]
    assert properties["description"] == card.markdown()
    assert properties["customProperties"] == {
        "training_assets": "cleaned/listens",
        **card.properties(),
    }
    assert properties["customProperties"]["card.training_data.rows.training"] == "3567"
    assert model["intendedUse"]["primaryUses"] == ["Daily recommendations."]
    caveats = model["mlModelCaveatsAndRecommendations"]["caveats"]["caveatDescription"]
    assert caveats == "Co-listening only.\nTop 5,000 tracks."
    analyses = model["mlModelQuantitativeAnalyses"]
    assert json.loads(analyses["intersectionalResults"]) == {
        "users with 1-2 plays before": {"precision_at_10": 0.02}
    }
