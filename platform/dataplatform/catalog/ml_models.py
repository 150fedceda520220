"""Trained models in DataHub: the registered model as an MLModelGroup, each version an MLModel.

The URNs are those DataHub's own MLflow source uses (platform `mlflow`, a version named
`<model>_<version>`), so this metadata and the daily MLflow ingestion describe the same
entities. Lineage to the training data goes two ways DataHub understands: the model's
`trainingData` lists the training datasets, and its training job is the Dagster asset's
DataJob, whose inputs are those datasets (the same URNs the IO manager writes). A version's
model card is its description (Markdown), its `card.*` custom properties, and DataHub's own
model-card aspects: intended use, caveats, and the per-class and per-slice results.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import dagster as dg
import datahub.metadata.schema_classes as dh
from datahub.emitter.mce_builder import make_ml_model_group_urn, make_ml_model_urn
from datahub.emitter.mcp import MetadataChangeProposalWrapper

from dataplatform.catalog.naming import CatalogNaming
from dataplatform.catalog.sink import DataHubSink, Delivery
from dataplatform.models.cards import ModelCard

MCP = MetadataChangeProposalWrapper
MODEL_PLATFORM = "mlflow"
VERSION_SEPARATOR = "_"  # the MLflow source's default `model_name_separator`


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model, as the catalog describes it."""

    model_name: str
    version: str
    description: str = ""
    hyperparameters: Mapping[str, object] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    training_assets: Sequence[dg.AssetKey] = ()
    model_asset: dg.AssetKey | None = None
    trained_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    card: ModelCard | None = None


def model_group_urn(model_name: str, env: str) -> str:
    return make_ml_model_group_urn(MODEL_PLATFORM, model_name, env)


def model_urn(model_name: str, version: str, env: str) -> str:
    return make_ml_model_urn(MODEL_PLATFORM, f"{model_name}{VERSION_SEPARATOR}{version}", env)


def describe_model(
    datahub: DataHubSink,
    *,
    model_name: str,
    version: str | int,
    hyperparameters: Mapping[str, object],
    metrics: Mapping[str, float],
    training_assets: Sequence[dg.AssetKey],
    description: str,
    model_asset: dg.AssetKey | None = None,
    card: ModelCard | None = None,
) -> Delivery:
    """Emit a model version (and its group, and its card if given) to the catalog, spooled if
    DataHub is unreachable."""
    described = ModelVersion(
        model_name=model_name,
        version=str(version),
        description=description,
        hyperparameters=hyperparameters,
        metrics=metrics,
        training_assets=tuple(training_assets),
        model_asset=model_asset,
        card=card,
    )
    return datahub.emit(model_mcps(described, datahub.naming))


def model_mcps(model: ModelVersion, naming: CatalogNaming) -> list[MCP]:
    group_urn = model_group_urn(model.model_name, naming.env)
    version_urn = model_urn(model.model_name, model.version, naming.env)
    jobs = [naming.job_urn(model.model_asset)] if model.model_asset else []
    return [
        MCP(entityUrn=group_urn, aspect=_group_properties(model, jobs)),
        MCP(entityUrn=version_urn, aspect=dh.StatusClass(removed=False)),
        MCP(entityUrn=version_urn, aspect=_model_properties(model, group_urn, jobs)),
        MCP(entityUrn=version_urn, aspect=_training_data(model, naming)),
        *_card_mcps(version_urn, model.card),
        *_training_job_mcps(model, naming),
    ]


def _group_properties(model: ModelVersion, jobs: list[str]) -> dh.MLModelGroupPropertiesClass:
    return dh.MLModelGroupPropertiesClass(
        name=model.model_name,
        description=model.description or None,
        trainingJobs=jobs,
        lastModified=dh.TimeStampClass(time=_millis(model.trained_at)),
    )


def _model_properties(
    model: ModelVersion, group_urn: str, jobs: list[str]
) -> dh.MLModelPropertiesClass:
    return dh.MLModelPropertiesClass(
        name=f"{model.model_name}{VERSION_SEPARATOR}{model.version}",
        description=model.card.markdown() if model.card else model.description or None,
        version=dh.VersionTagClass(versionTag=model.version),
        hyperParams=[
            dh.MLHyperParamClass(name=name, value=str(value))
            for name, value in model.hyperparameters.items()
        ],
        trainingMetrics=[
            dh.MLMetricClass(name=name, value=str(value)) for name, value in model.metrics.items()
        ],
        groups=[group_urn],
        trainingJobs=jobs,
        created=dh.TimeStampClass(time=_millis(model.trained_at)),
        customProperties={
            "training_assets": ",".join(key.to_user_string() for key in model.training_assets),
            **(model.card.properties() if model.card else {}),
        },
    )


def _card_mcps(version_urn: str, card: ModelCard | None) -> list[MCP]:
    if card is None:
        return []
    results = card.as_dict()
    aspects = [
        dh.IntendedUseClass(primaryUses=[card.intended_use]),
        dh.CaveatsAndRecommendationsClass(
            caveats=dh.CaveatDetailsClass(caveatDescription="\n".join(card.known_limits))
        ),
        dh.QuantitativeAnalysesClass(
            unitaryResults=json.dumps(results["per_class"]),
            intersectionalResults=json.dumps(results["per_slice"]),
        ),
    ]
    return [MCP(entityUrn=version_urn, aspect=aspect) for aspect in aspects]


def _training_data(model: ModelVersion, naming: CatalogNaming) -> dh.TrainingDataClass:
    return dh.TrainingDataClass(
        trainingData=[
            dh.BaseDataClass(dataset=naming.dataset_urn(key)) for key in model.training_assets
        ]
    )


def _training_job_mcps(model: ModelVersion, naming: CatalogNaming) -> list[MCP]:
    """The model asset's DataJob reads the training datasets (the same job the IO manager
    names for a table asset), so lineage runs dataset -> job -> model."""
    if model.model_asset is None:
        return []
    job_urn = naming.job_urn(model.model_asset)
    return [
        MCP(entityUrn=naming.flow_urn, aspect=dh.DataFlowInfoClass(name=naming.flow_id)),
        MCP(
            entityUrn=job_urn,
            aspect=dh.DataJobInfoClass(
                name=naming.dataset_name(model.model_asset),
                type="DAGSTER_ASSET",
                description=model.description or None,
                externalUrl=naming.asset_url(model.model_asset),
            ),
        ),
        MCP(
            entityUrn=job_urn,
            aspect=dh.DataJobInputOutputClass(
                inputDatasets=[naming.dataset_urn(key) for key in model.training_assets],
                outputDatasets=[],
            ),
        ),
    ]


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
