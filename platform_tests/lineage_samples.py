"""Small, real metadata batches for tests that only need something to deliver."""

from datahub.emitter.mce_builder import make_dataset_urn
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata.schema_classes import DatasetPropertiesClass, StatusClass


def sample_mcps(name: str) -> list[MetadataChangeProposalWrapper]:
    urn = make_dataset_urn("dagster", name, "PROD")
    return [
        MetadataChangeProposalWrapper(entityUrn=urn, aspect=StatusClass(removed=False)),
        MetadataChangeProposalWrapper(entityUrn=urn, aspect=DatasetPropertiesClass(name=name)),
    ]
