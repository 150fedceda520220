"""The landing zone's drop folders, made when a run starts so that a user sees where files go."""

from pathlib import Path

from dataplatform.defs.entities.assets import RESOLVED_SPECS
from dataplatform.defs.entities.review import labels_dataset
from dataplatform.defs.landing.knowledge_base import DOCUMENTS
from dataplatform.landing.datasets import TABULAR_DATASETS
from dataplatform.landing.zone import LandingZone


def create_drop_folders(landing: LandingZone) -> list[Path]:
    """Every folder a sensor watches: the tabular datasets, documents, entity labels."""
    names = [
        *(dataset.name for dataset in TABULAR_DATASETS),
        DOCUMENTS,
        *(labels_dataset(spec) for spec in RESOLVED_SPECS.values()),
    ]
    folders = [landing.dataset_dir(name) for name in names]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return folders
