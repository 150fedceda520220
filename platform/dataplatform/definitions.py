"""The code location: every definition under `defs/`, found by Dagster's `dg` project loader.

Each domain keeps its assets, checks, sensors, schedules and jobs in `defs/<domain>/`;
`defs/resources.py` binds the resources and the executor from the settings. Cross-cutting
policy (owners, a layer tag, freshness of the daily assets) is applied here once.
"""

import warnings
from datetime import timedelta
from pathlib import Path

import dagster as dg

OWNER = "team:data-platform"
# The daily refresh writes yesterday's partition at 02:00: a materialisation older than a day
# and a bit means today's refresh has not landed yet; older than two days, a day was missed.
DAILY_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=48), warn_window=timedelta(hours=26)
)


def with_platform_policy(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Cross-cutting policy, applied once: owners, a layer tag by group, daily freshness."""
    spec = spec.merge_attributes(owners=[OWNER], tags={"layer": spec.group_name or "default"})
    if isinstance(spec.partitions_def, dg.DailyPartitionsDefinition):
        spec = spec.replace_attributes(freshness_policy=DAILY_FRESHNESS)
    return spec


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    with warnings.catch_warnings():  # mapping specs over loaded definitions is a preview API
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return loaded.map_asset_specs(func=with_platform_policy)
