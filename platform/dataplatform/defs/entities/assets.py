"""The `entities` group: a table's matches, entities and golden records, resolved day by day.

Each day's `<noun>_entities` partition is the full snapshot (every record's attributes and
its entity id), built from the previous day's snapshot and the day's new and changed
records by `resolve_increment`, so a daily run costs what the day's volume costs. The run
also writes the pairs it is least sure of (`<noun>_uncertain_pairs`) for a person to label;
the labels come back through the landing zone into `<noun>_labels` (see `review`), which
the next run reads.
"""

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import dagster as dg
import numpy as np
import pandas as pd

from dataplatform.defs.entities.review import build_labels_asset
from dataplatform.entities.clustering import ENTITY_ID
from dataplatform.entities.golden import golden_records
from dataplatform.entities.key_store import PreparedKeyStore
from dataplatform.entities.label_files import labels_for_run, side_by_side
from dataplatform.entities.platform_specs import USERS
from dataplatform.entities.plots import (
    PlotStore,
    cluster_size_histogram,
    match_weight_chart,
    score_histogram,
)
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
    uncertain: dg.AssetKey
    labels: dg.AssetKey


def entity_keys(spec: EntitySpec) -> EntityKeys:
    """`entities/<noun>_matches`, `_entities`, `_golden`, `_uncertain_pairs`, `_labels`, the
    noun singular ('users' -> 'user')."""
    noun = spec.name.removesuffix("s")
    kinds = ("matches", "entities", "golden", "uncertain_pairs", "labels")
    return EntityKeys(*(dg.AssetKey(["entities", f"{noun}_{kind}"]) for kind in kinds))


def build_entity_assets(
    spec: EntitySpec,
    source_key: dg.AssetKey,
    partitions_def: dg.TimeWindowPartitionsDefinition = daily_partitions,
) -> list[dg.AssetsDefinition]:
    """The labels, the resolution (matches, entities with their checks, uncertain pairs) and
    the golden records of the table at `source_key`, whose daily partitions hold that day's
    new and changed records."""
    keys = entity_keys(spec)
    return [
        build_labels_asset(spec, keys.labels, partitions_def),
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
            # The same day's labels: those given before this run (see the labels' description).
            "labels": dg.AssetIn(key=keys.labels, metadata={ALLOW_MISSING_PARTITIONS: True}),
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
            "uncertain": dg.AssetOut(
                key=keys.uncertain,
                kinds={"parquet"},
                description=(
                    f"The day's {spec.name} candidate pairs scored within the review band"
                    f" {list(spec.review_band)} and not yet labelled, the most uncertain (closest"
                    " to the threshold) first: both records' fields side by side (left_*,"
                    " right_*), the score and each comparison's evidence. Label them with"
                    f" `dataplatform entities review --spec {spec.name}`, or drop a labels file"
                    f" (left_id, right_id, is_match) into landing/labels/{spec.name}/; the next"
                    " run uses them."
                ),
            ),
        },
        check_specs=entity_check_specs(keys.entities),
    )
    def resolve_entities(
        context: dg.AssetExecutionContext,
        changed: pd.DataFrame,
        previous: pd.DataFrame,
        labels: pd.DataFrame,
        entity_truth: EntityTruth,
        plots: PlotStore,
        prepared_keys: PreparedKeyStore,
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        partition = context.partition_key
        previous = with_cache(context, spec, keys.entities, previous, prepared_keys)
        refolded = labelled_records(spec, previous, changed, labels, partition)
        day = pd.concat([changed, refolded], ignore_index=True) if len(refolded) else changed
        given = labels_for_run(labels, cast(pd.Series, changed[spec.id_column]))
        resolution = resolve_day(spec, previous, day, given)
        snapshot = prepared_keys.save(
            spec,
            entity_snapshot(spec, previous, day, resolution),
            keys.entities,
            partition,
            context.run_id,
        )
        context.log.info(
            f"{spec.name} {partition}: {len(changed)} new or changed records and"
            f" {len(refolded)} newly labelled ones compared in"
            f" {resolution.candidate_pairs} pairs; {len(resolution.matches)} matches;"
            f" {snapshot[ENTITY_ID].nunique()} entities over {len(snapshot)} records"
        )
        for warning in resolution.warnings:
            context.log.warning(f"{spec.name} {partition}: {warning}")
        truth = entity_truth.labels(spec.id_column)
        quality = snapshot_quality(spec, snapshot, truth) if truth is not None else {}
        counts = resolution_counts(resolution, len(changed), previous) | {
            "records_resolved_afresh_for_labels": len(refolded)
        }
        title = f"{spec.name} {partition}"
        cluster_plot = plots.save(
            cluster_size_histogram(cast(pd.Series, snapshot[ENTITY_ID]), title),
            keys.entities,
            partition,
            "cluster_sizes",
        )
        score_plot = plots.save(
            score_histogram(
                resolution.fit.score_counts, resolution.fit.threshold, title, spec.review_band
            ),
            keys.matches,
            partition,
            "match_scores",
        )
        weight_plot = (
            plots.save(
                match_weight_chart(resolution.fit.levels, title),
                keys.entities,
                partition,
                "match_weights",
            )
            if len(resolution.fit.levels)
            else {}
        )
        yield dg.Output(
            snapshot,
            output_name="entities",
            metadata=counts
            | entity_counts(snapshot)
            | quality
            | fit_metadata(spec, resolution, 0 if given is None else len(given))
            | cluster_plot
            | weight_plot,
        )
        yield dg.Output(resolution.matches, output_name="matches", metadata=counts | score_plot)
        uncertain = side_by_side(spec, resolution.uncertain, snapshot, resolution.fit.threshold)
        yield dg.Output(
            uncertain,
            output_name="uncertain",
            metadata={
                "uncertain_pairs": len(uncertain),
                "review_band": str(list(spec.review_band)),
                "threshold": resolution.fit.threshold,
            },
        )
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
        records = entities.drop(columns=ENTITY_ID)
        members = cast(pd.DataFrame, entities[[spec.id_column, ENTITY_ID]])
        table = golden_records(spec, records, members)
        return dg.Output(table, metadata={"entities": len(table), "records": len(entities)})

    return golden


def with_cache(
    context: dg.AssetExecutionContext,
    spec: EntitySpec,
    key: dg.AssetKey,
    previous: pd.DataFrame,
    store: PreparedKeyStore,
) -> pd.DataFrame:
    """The previous snapshot with its prepared keys: those its run cached, the others made."""
    if previous.empty:
        return previous
    partition = context.asset_partition_key_for_input("previous")
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1
    ).records
    if records:
        previous = store.load(spec, previous, key, partition, records[0].run_id)
    return with_prepared_keys(spec, previous)


def resolve_day(
    spec: EntitySpec, previous: pd.DataFrame, changed: pd.DataFrame, labels: pd.DataFrame | None
) -> Resolution:
    """Fold the day into the previous snapshot; without one (first day), resolve afresh."""
    if previous.empty:
        return resolve(spec, changed, labels)
    return resolve_increment(spec, previous, changed, labels)


def labelled_records(
    spec: EntitySpec,
    previous: pd.DataFrame,
    changed: pd.DataFrame,
    labels: pd.DataFrame,
    day: str,
) -> pd.DataFrame:
    """The unchanged records of the pairs labelled since the last run (kept on `day`), as
    the day's records: an increment compares only the day's records, and keeps existing
    entities whole, so a new label takes effect only when its records are resolved afresh.
    Empty without new labels, so a run without them costs what it did."""
    if previous.empty or labels.empty or "kept_on" not in labels:
        return changed.iloc[:0]
    new = labels[(labels["kept_on"] == day).to_numpy()]
    named = set(new["left_id"]) | set(new["right_id"])
    ids = cast(pd.Series, previous[spec.id_column])
    wanted = ids.astype(str).isin(named) & ~ids.isin(changed[spec.id_column])
    records = without_prepared_keys(cast(pd.DataFrame, previous[wanted.to_numpy()]))
    return records.drop(columns=ENTITY_ID)


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
    # The prepared keys are cached with the snapshot, so tomorrow prepares only its changes.
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
        # Near 1 by design: six decimals still tell 0.999864 from 0.999938.
        "reduction_ratio": round(float(resolution.reduction_ratio), 6),
        "matches": len(resolution.matches),
    }


def fit_metadata(
    spec: EntitySpec, resolution: Resolution, labels_given: int
) -> dict[str, dg.MetadataValue]:
    """What the fit says of itself (the threshold and the rule that chose it, the precision
    and recall it estimates without truth), the labels it used, the pairs left for review,
    what the size guard cut, and the date values that did not parse."""
    fit = resolution.fit
    unparsed = {
        f"unparsed_{column}": dg.MetadataValue.int(count)
        for column, count in resolution.unparsed_dates.items()
    }
    return {
        "threshold": dg.MetadataValue.float(fit.threshold),
        "threshold_rule": dg.MetadataValue.text(spec.threshold_rule),
        "estimated_precision": dg.MetadataValue.float(round(fit.estimated_precision, 4)),
        "estimated_recall": dg.MetadataValue.float(round(fit.estimated_recall, 4)),
        "labels_given": dg.MetadataValue.int(labels_given),
        "labelled_pairs": dg.MetadataValue.int(fit.labelled_pairs),
        "uncertain_pairs": dg.MetadataValue.int(len(resolution.uncertain)),
        "match_rate": dg.MetadataValue.float(round(fit.match_rate, 4)),
        "fit_m_u": dg.MetadataValue.md(fit.levels_markdown()),
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
    """Pairwise precision, recall and F1 of the snapshot's entities, measured on the records
    whose true entity is known (beside the fit's estimates)."""
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


# The specs resolved by the platform, by name (`dataplatform entities review --spec`).
RESOLVED_SPECS = {USERS.name: USERS}
entity_assets = build_entity_assets(USERS, dg.AssetKey(["cleaned", "users"]))
