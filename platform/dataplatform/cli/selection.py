"""What a run is asked to do: a job or an asset selection, checked against the definitions."""

from collections.abc import Set
from typing import TYPE_CHECKING

import dagster as dg

from dataplatform import definitions
from dataplatform.cli.errors import UsageError

if TYPE_CHECKING:  # a type only: Dagster exports no public name for it
    from dagster._core.definitions.assets.graph.asset_graph import AssetGraph


def selected_assets(selection: str) -> Set[dg.AssetKey]:
    """The assets `selection` names; a usage error if it is malformed or names none."""
    graph = definitions.defs().resolve_asset_graph()
    try:
        keys = dg.AssetSelection.from_string(selection).resolve(graph)
    except Exception as error:  # Dagster raises several types for a malformed selection
        raise UsageError(f"invalid selection {selection!r}: {error}") from error
    if not keys:
        raise UsageError(f"selection {selection!r} matches no asset")
    return keys


def runnable_assets(selection: str) -> Set[dg.AssetKey]:
    """The selected assets and the multi-asset neighbours that must run with them (a table and
    its rejects are written by one step)."""
    graph = definitions.defs().resolve_asset_graph()
    keys = selected_assets(selection)
    return dg.AssetSelection.assets(*keys).required_multi_asset_neighbors().resolve(graph)


def job_definition(job_name: str) -> dg.JobDefinition:
    defs = definitions.defs()
    if job_name not in {job.name for job in defs.resolve_all_job_defs()}:
        raise UsageError(f"no job named {job_name!r}; `dataplatform list` shows the jobs")
    return defs.resolve_job_def(job_name)


def common_partitions(selection: str, keys: Set[dg.AssetKey]) -> dg.PartitionsDefinition | None:
    """The partitions every selected asset shares; a run cannot mix partitionings."""
    graph = definitions.defs().resolve_asset_graph()
    found = {graph.get(key).partitions_def for key in keys}
    if len(found) > 1:
        raise UsageError(
            f"cannot run {selection!r} as one job: its assets do not all have the same"
            " partitions definitions (select daily or per-file assets, not both)"
        )
    return found.pop()


def sort_by_group(graph: "AssetGraph", keys: Set[dg.AssetKey]) -> list[dg.AssetKey]:
    """Upstream groups first, as the asset graph reads; keys sorted within a group."""
    order = list(dict.fromkeys(graph.get(key).group_name for key in graph.toposorted_asset_keys))
    return sorted(keys, key=lambda key: (order.index(graph.get(key).group_name), key.path))
