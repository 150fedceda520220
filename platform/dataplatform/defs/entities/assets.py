"""The `entities` group: a table's matches, entities and golden records, resolved day by day.

Each day's `<noun>_entities` partition is the full snapshot (every record's attributes and
its entity id), built from the previous day's snapshot and the day's new and changed
records by `resolve_increment`, so a daily run costs what the day's volume costs.
"""

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import dagster as dg
import numpy as np
import pandas as pd

from dataplatform.entities.clustering import ENTITY_ID
from dataplatform.entities.golden import golden_records
from dataplatform.entities.platform_specs import USERS
from dataplatform.entities.plots import PlotStore, cluster_size_histogram, score_histogram
from dataplatform.entities.prepared_keys import with_prepared_keys, without_prepared_keys
from dataplatform.entities.quality import entity_pairs, pair_quality, true_pairs_from_entities
from dataplatform.entities.resolution import Resolution, resolve, resolve_increment
from dataplatform.entities.spec import EntitySpec
from dataplatform.entities.truth import EntityTruth
from dataplatform.partitions import daily_partitions
from dataplatform.resources.parquet_io_manager import ALLOW_MISSING_PARTITIONS

MIN_F1 = 0.95

# The parameter is marked beta in Dagster; before the first day there is no previous day.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    PREVIOUS_DAY = dg.TimeWindowPartitionMapping(
        start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
    )


@dataclass(frozen=True)
class EntityKeys:
    matches: dg.AssetKey
    entities: dg.AssetKey
    golden: dg.AssetKey


def entity_keys(spec: EntitySpec) -> EntityKeys:
    """`entities/<noun>_matches`, `_entities`, `_golden`, the noun singular ('users' -> 'user')."""
    noun = spec.name.removesuffix("s")
    return EntityKeys(
        *(dg.AssetKey(["entities", f"{noun}_{kind}"]) for kind in ("matches", "entities", "golden"))
    )


def build_entity_assets(
    spec: EntitySpec,
    source_key: dg.AssetKey,
    partitions_def: dg.TimeWindowPartitionsDefinition = daily_partitions,
) -> list[dg.AssetsDefinition]:
    """The resolution (matches and entities, with their checks) and the golden records of the
    table at `source_key`, whose daily partitions hold that day's new and changed records."""
    keys = entity_keys(spec)
    return [
        build_resolution_asset(spec, source_key, keys, partitions_def),
        build_golden_asset(spec, keys, partitions_def),
    ]


def build_resolution_asset(
    spec: EntitySpec,
    source_key: dg.AssetKey,
    keys: EntityKeys,
    partitions_def: dg.TimeWindowPartitionsDefinition,
) -> dg.AssetsDefinition:
    @dg.multi_asset(
        name=f"resolve_{spec.name}",
        group_name="entities",
        partitions_def=partitions_def,
        ins={
            "changed": dg.AssetIn(key=source_key),
            "previous": dg.AssetIn(
                key=keys.entities,
                partition_mapping=PREVIOUS_DAY,
                metadata={ALLOW_MISSING_PARTITIONS: True},
            ),
        },
        outs={
            "entities": dg.AssetOut(
                key=keys.entities,
                kinds={"parquet"},
                description=(
                    f"Every {spec.name} record as of the day, with its entity id (stable across"
                    " days: an entity keeps its id when records join it)."
                ),
            ),
            "matches": dg.AssetOut(
                key=keys.matches,
                kinds={"parquet"},
                description=(
                    f"The day's matched {spec.name} record pairs, with score and the similarity"
                    " of each compared field as evidence."
                ),
            ),
        },
        check_specs=entity_check_specs(keys.entities),
    )
    def resolve_entities(
        context: dg.AssetExecutionContext,
        changed: pd.DataFrame,
        previous: pd.DataFrame,
        entity_truth: EntityTruth,
        plots: PlotStore,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        resolution = resolve_day(spec, previous, changed)
        snapshot = entity_snapshot(spec, previous, changed, resolution)
        partition = context.partition_key
        context.log.info(
            f"{spec.name} {partition}: {len(changed)} new or changed records compared in"
            f" {resolution.candidate_pairs} pairs; {len(resolution.matches)} matches;"
            f" {snapshot[ENTITY_ID].nunique()} entities over {len(snapshot)} records"
        )
        for warning in resolution.warnings:
            context.log.warning(f"{spec.name} {partition}: {warning}")
        labels = entity_truth.labels(spec.id_column)
        quality = snapshot_quality(spec, snapshot, labels) if labels is not None else {}
        counts = resolution_counts(resolution, len(changed), previous)
        cluster_plot = plots.save(
            cluster_size_histogram(
                cast(pd.Series, snapshot[ENTITY_ID]), f"{spec.name} {partition}"
            ),
            keys.entities,
            partition,
            "cluster_sizes",
        )
        score_plot = plots.save(
            score_histogram(
                resolution.fit.score_counts,
                spec.match_threshold,
                f"{spec.name} {partition}",
            ),
            keys.matches,
            partition,
            "match_scores",
        )
        yield dg.Output(
            snapshot,
            output_name="entities",
            metadata=counts
            | entity_counts(snapshot)
            | quality
            | fit_metadata(resolution)
            | cluster_plot,
        )
        yield dg.Output(resolution.matches, output_name="matches", metadata=counts | score_plot)
        yield from entity_checks(spec, snapshot, previous, quality)

    return resolve_entities


def build_golden_asset(
    spec: EntitySpec, keys: EntityKeys, partitions_def: dg.TimeWindowPartitionsDefinition
) -> dg.AssetsDefinition:
    @dg.asset(
        key=keys.golden,
        group_name="entities",
        partitions_def=partitions_def,
        ins={"entities": dg.AssetIn(key=keys.entities)},
        kinds={"parquet"},
        description=(
            f"One record per {spec.name} entity by survivorship: each field from the most"
            " recent member record that has it."
        ),
    )
    def golden(entities: pd.DataFrame) -> dg.Output[pd.DataFrame]:
        records = without_prepared_keys(entities).drop(columns=ENTITY_ID)
        members = cast(pd.DataFrame, entities[[spec.id_column, ENTITY_ID]])
        table = golden_records(spec, records, members)
        return dg.Output(table, metadata={"entities": len(table), "records": len(entities)})

    return golden


def resolve_day(spec: EntitySpec, previous: pd.DataFrame, changed: pd.DataFrame) -> Resolution:
    """Fold the day into the previous snapshot; without one (first day), resolve afresh."""
    if previous.empty:
        return resolve(spec, changed)
    return resolve_increment(spec, previous, changed)


def entity_snapshot(
    spec: EntitySpec, previous: pd.DataFrame, changed: pd.DataFrame, resolution: Resolution
) -> pd.DataFrame:
    """Every current record (the day's version replacing an older one) with its entity id."""
    if previous.empty:
        records = changed
    else:
        unchanged = ~previous[spec.id_column].isin(changed[spec.id_column])
        records = pd.concat([previous[unchanged].drop(columns=ENTITY_ID), changed])
    assignment = resolution.entities[[spec.id_column, ENTITY_ID]]
    # The prepared blocking keys travel with the snapshot, so tomorrow prepares only its changes.
    return with_prepared_keys(
        spec, records.merge(assignment, on=spec.id_column, how="left", validate="one_to_one")
    )


def resolution_counts(
    resolution: Resolution, changed_records: int, previous: pd.DataFrame
) -> dict[str, int | float]:
    return {
        "changed_records": changed_records,
        "previous_snapshot_records": len(previous),
        "candidate_pairs": resolution.candidate_pairs,
        "reduction_ratio": float(resolution.reduction_ratio),
        "matches": len(resolution.matches),
    }


def fit_metadata(resolution: Resolution) -> dict[str, dg.MetadataValue]:
    """What the fit says of itself (quality without truth), what the size guard cut, and
    the date values that did not parse."""
    unparsed = {
        f"unparsed_{column}": dg.MetadataValue.int(count)
        for column, count in resolution.unparsed_dates.items()
    }
    return {
        "match_rate": dg.MetadataValue.float(resolution.fit.match_rate),
        "fit_m_u": dg.MetadataValue.md(resolution.fit.levels_markdown()),
        "fit_warnings": dg.MetadataValue.json(resolution.warnings),
        "clusters_cut": dg.MetadataValue.int(resolution.cut.clusters),
        "records_in_cut_clusters": dg.MetadataValue.int(resolution.cut.records),
        **unparsed,
    }


def entity_counts(snapshot: pd.DataFrame) -> dict[str, int]:
    sizes = cast(pd.Series, snapshot[ENTITY_ID]).value_counts()
    return {
        "records": len(snapshot),
        "entities": len(sizes),
        "multi_record_entities": int((sizes > 1).sum()),
        "largest_entity": int(sizes.max()) if len(sizes) else 0,
    }


def snapshot_quality(
    spec: EntitySpec, snapshot: pd.DataFrame, labels: pd.Series
) -> dict[str, float]:
    """Pairwise precision, recall and F1 of the snapshot's entities on the labelled records."""
    ids = cast(pd.Series, snapshot[spec.id_column])
    labelled = cast(pd.DataFrame, snapshot[ids.isin(labels.index)])
    labelled_ids = cast(pd.Series, labelled[spec.id_column])
    predicted = entity_pairs(labelled, spec.id_column)
    true = true_pairs_from_entities(labelled_ids, labels.reindex(labelled_ids).to_numpy())
    quality = pair_quality(predicted, true)
    return {name: round(value, 4) for name, value in quality.items()} | {
        "labelled_records": len(labelled)
    }


def entity_check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            "every_record_has_an_entity",
            asset=key,
            blocking=True,
            description="Each record appears once and has an entity id.",
        ),
        dg.AssetCheckSpec(
            "no_giant_clusters",
            asset=key,
            description="No entity exceeds the spec's maximum cluster size.",
        ),
        dg.AssetCheckSpec(
            "entity_ids_stable",
            asset=key,
            description=(
                "No entity id of the previous day disappears unless its records merged into"
                " another existing entity."
            ),
        ),
        dg.AssetCheckSpec(
            "f1_at_least_0_95",
            asset=key,
            description=(
                f"Pairwise F1 against the known true entities >= {MIN_F1}; passes with"
                " 'ground truth: unknown' when no labels are configured."
            ),
        ),
    ]


def entity_checks(
    spec: EntitySpec, snapshot: pd.DataFrame, previous: pd.DataFrame, quality: dict[str, float]
) -> Iterator[dg.AssetCheckResult]:
    yield every_record_has_an_entity(spec, snapshot)
    yield no_giant_clusters(spec, snapshot)
    yield entity_ids_stable(spec, snapshot, previous)
    yield f1_at_least(quality)


def every_record_has_an_entity(spec: EntitySpec, snapshot: pd.DataFrame) -> dg.AssetCheckResult:
    without = int(snapshot[ENTITY_ID].isna().sum())
    repeated = int(snapshot[spec.id_column].duplicated().sum())
    return dg.AssetCheckResult(
        check_name="every_record_has_an_entity",
        passed=without == 0 and repeated == 0,
        metadata={"records_without_entity": without, "repeated_records": repeated},
    )


def no_giant_clusters(spec: EntitySpec, snapshot: pd.DataFrame) -> dg.AssetCheckResult:
    largest = int(snapshot[ENTITY_ID].value_counts().max()) if len(snapshot) else 0
    return dg.AssetCheckResult(
        check_name="no_giant_clusters",
        passed=largest <= spec.max_cluster_size,
        metadata={"largest_entity": largest, "max_cluster_size": spec.max_cluster_size},
    )


def entity_ids_stable(
    spec: EntitySpec, snapshot: pd.DataFrame, previous: pd.DataFrame
) -> dg.AssetCheckResult:
    """A record whose entity id vanished must now be in an entity that existed before."""
    if previous.empty:
        return dg.AssetCheckResult(
            check_name="entity_ids_stable", passed=True, metadata={"previous_snapshot": "none"}
        )
    before = cast(pd.Series, previous.set_index(spec.id_column)[ENTITY_ID])
    now = cast(pd.Series, snapshot.set_index(spec.id_column)[ENTITY_ID]).reindex(before.index)
    old_ids = set(before)
    vanished = ~before.isin(set(now.dropna()))
    renamed = vanished & ~now.isin(old_ids)
    merged_away = cast(pd.Series, before[vanished & ~renamed])
    lost = cast(pd.Series, before[renamed])
    return dg.AssetCheckResult(
        check_name="entity_ids_stable",
        passed=not renamed.any(),
        metadata={
            "records_kept_entity_id": int((now == before).sum()),
            "entity_ids_merged_away": int(merged_away.nunique()),
            "entity_ids_lost": int(lost.nunique()),
            "lost_examples": ", ".join(map(str, np.unique(lost)[:10])) or "none",
        },
    )


def f1_at_least(quality: dict[str, float]) -> dg.AssetCheckResult:
    if not quality:
        return dg.AssetCheckResult(
            check_name="f1_at_least_0_95", passed=True, metadata={"ground_truth": "unknown"}
        )
    return dg.AssetCheckResult(
        check_name="f1_at_least_0_95",
        passed=quality["f1"] >= MIN_F1,
        metadata={"ground_truth": "labelled", **quality},
    )


entity_assets = build_entity_assets(USERS, dg.AssetKey(["cleaned", "users"]))
