"""The code location: every definition under `defs/`, found by Dagster's `dg` project loader.

Each domain keeps its assets, checks, sensors, schedules and jobs in `defs/<domain>/`;
`defs/resources.py` binds the resources and the executor from the settings. Cross-cutting
catalog policy (owners, a layer tag) is applied here once, over every asset.
"""

import warnings
from pathlib import Path

import dagster as dg

OWNER = "team:data-platform"


def with_ownership(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Cross-cutting catalog policy, applied once: owners and a layer tag by group."""
    return spec.merge_attributes(owners=[OWNER], tags={"layer": spec.group_name or "default"})


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    with warnings.catch_warnings():  # mapping specs over loaded definitions is a preview API
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return loaded.map_asset_specs(func=with_ownership)
