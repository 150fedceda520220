"""The code location: every definition under `defs/`, found by Dagster's `dg` project loader.

Each domain keeps its assets, checks, sensors, schedules and jobs in `defs/<domain>/`;
`defs/resources.py` binds the resources and the executor from the settings. Cross-cutting
policy (owners, a layer tag, freshness of the daily assets, where the code is and which version
of it ran) is applied here once.
"""

import hashlib
import inspect
import warnings
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import cast

import dagster as dg

OWNER = "team:data-platform"
# The daily refresh writes yesterday's partition at 02:00: a materialisation older than a day
# and a bit means today's refresh has not landed yet; older than two days, a day was missed.
DAILY_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=48), warn_window=timedelta(hours=26)
)
CODE_REFERENCES = "dagster/code_references"


def with_platform_policy(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Cross-cutting policy, applied once: owners, a layer tag by group, daily freshness."""
    spec = spec.merge_attributes(owners=[OWNER], tags={"layer": spec.group_name or "default"})
    if isinstance(spec.partitions_def, dg.DailyPartitionsDefinition):
        spec = spec.replace_attributes(freshness_policy=DAILY_FRESHNESS)
    return spec


def code_version(fn: Callable) -> str:
    """A digest of the function that computes an asset: it changes when that code changes, so
    the UI can tell a materialisation made by older code."""
    source = inspect.getsource(fn)
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def code_identities(loaded: dg.Definitions) -> dict[dg.AssetKey, dict]:
    """Per asset: the file and line of the function that computes it, and its code version."""
    computed = [a for a in loaded.assets or [] if isinstance(a, dg.AssetsDefinition)]
    with warnings.catch_warnings():  # source-code references are a beta API
        warnings.simplefilter("ignore", dg.BetaWarning)
        referenced = dg.with_source_code_references(computed)
    identities = {}
    for assets_def in referenced:
        assert isinstance(assets_def, dg.AssetsDefinition)  # as given
        compute_fn = assets_def.op.compute_fn  # Dagster wraps a decorated function
        version = code_version(cast(Callable, getattr(compute_fn, "decorated_fn", compute_fn)))
        for key, metadata in assets_def.metadata_by_key.items():
            identities[key] = {"version": version, "references": metadata.get(CODE_REFERENCES)}
    return identities


def with_code_identity(
    identities: Mapping[dg.AssetKey, dict],
) -> Callable[[dg.AssetSpec], dg.AssetSpec]:
    def identify(spec: dg.AssetSpec) -> dg.AssetSpec:
        identity = identities.get(spec.key)
        if identity is None:
            return spec
        if identity["references"] is not None:
            spec = spec.merge_attributes(metadata={CODE_REFERENCES: identity["references"]})
        return spec.replace_attributes(code_version=spec.code_version or identity["version"])

    return identify


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    identify = with_code_identity(code_identities(loaded))
    with warnings.catch_warnings():  # mapping specs over loaded definitions is a preview API
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return loaded.map_asset_specs(func=lambda spec: identify(with_platform_policy(spec)))
