"""Entity resolution's entry points: deduplicate a table, link two, or fold in a day's records.

Each run blocks (`blocking`), compares (`compare`), classifies (`classification`), and
clusters the matches into entities with stable ids (`clustering`). A snapshot can cache its
prepared columns and blocking keys (`prepared_keys.with_prepared_keys`), so that
`resolve_increment` prepares and indexes only the day's records (`increments`).
Each entry point takes optional `labels` (see `pair_labels`): pairs a person judged, whose
verdicts the classifier honours; a labelled match that blocking missed is added to the
candidates when both its records are in the run.
"""

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
from recordlinkage.measures import full_index_size

from dataplatform.entities.blocking import (
    index_pairs,
    prepare_records,
    prepared_columns,
    unparsed_dates,
)
from dataplatform.entities.classification import scored_matches
from dataplatform.entities.clustering import (
    ENTITY_ID,
    Cut,
    cluster_matches,
    increment_entity_ids,
    new_entity_ids,
)
from dataplatform.entities.diagnostics import FitReport
from dataplatform.entities.increments import (
    increment_pair_space,
    increment_pairs,
    random_rows,
    sample_features,
)
from dataplatform.entities.pair_labels import missed_matches
from dataplatform.entities.prepared_keys import (
    block_columns,
    block_keys,
    cache_columns,
    from_cache,
    sharing_a_block,
    with_prepared_keys,
)
from dataplatform.entities.spec import EntitySpec


@dataclass(frozen=True)
class Resolution:
    """The outcome of one resolution run, with the evidence for each match, the pairs worth
    a review (`uncertain`: scored within `spec.review_band`, not labelled; same columns as
    `matches`), the report of the fit, what the cluster-size guard cut, and the date values
    that did not parse."""

    candidate_pairs: int
    reduction_ratio: float
    matches: pd.DataFrame
    uncertain: pd.DataFrame
    entities: pd.DataFrame
    fit: FitReport
    cut: Cut
    unparsed_dates: dict[str, int]

    @property
    def warnings(self) -> list[str]:
        """One line per finding that makes the result doubtful."""
        cut = []
        if self.cut.clusters:
            cut = [
                f"the cluster-size guard cut {self.cut.clusters} over-large clusters"
                f" ({self.cut.records} records) apart at their weakest links"
            ]
        return [*self.fit.warnings, *cut]


def resolve(
    spec: EntitySpec, records: pd.DataFrame, labels: pd.DataFrame | None = None
) -> Resolution:
    """Deduplicate one table: every record gets an entity id (singletons included)."""
    prepared = prepare_records(spec, records)
    ids = prepared.index
    pairs = _with_missed_matches(index_pairs(spec, prepared), labels, ids, ids)
    pair_space = int(full_index_size(prepared))
    scored = scored_matches(spec, pairs, prepared, prepared, labels, pair_space, with_below=True)
    clusters, cut = cluster_matches(
        spec, ids, ids, scored.matches, scored.below, scored.fit.threshold
    )
    entity_ids = new_entity_ids(ids, clusters, set())
    return Resolution(
        candidate_pairs=len(pairs),
        reduction_ratio=_reduction_ratio(len(pairs), prepared),
        matches=scored.matches,
        uncertain=scored.uncertain,
        entities=pd.DataFrame({spec.id_column: ids.to_numpy(), ENTITY_ID: entity_ids}),
        fit=scored.fit,
        cut=cut,
        unparsed_dates=unparsed_dates(spec, records, prepared),
    )


def link(
    spec: EntitySpec,
    left: pd.DataFrame,
    right: pd.DataFrame,
    labels: pd.DataFrame | None = None,
) -> Resolution:
    """Link two tables; `entities` lists the records of both, with a `side` column."""
    left_prepared, right_prepared = prepare_records(spec, left), prepare_records(spec, right)
    pairs = _with_missed_matches(
        index_pairs(spec, left_prepared, right_prepared),
        labels,
        left_prepared.index,
        right_prepared.index,
    )
    pair_space = int(full_index_size(left_prepared, right_prepared))
    scored = scored_matches(
        spec, pairs, left_prepared, right_prepared, labels, pair_space, with_below=True
    )
    ids = left_prepared.index.append(right_prepared.index)
    clusters, cut = cluster_matches(
        spec,
        left_prepared.index,
        right_prepared.index,
        scored.matches,
        scored.below,
        scored.fit.threshold,
    )
    left_unparsed = unparsed_dates(spec, left, left_prepared)
    right_unparsed = unparsed_dates(spec, right, right_prepared)
    entities = pd.DataFrame(
        {
            spec.id_column: ids.to_numpy(),
            "side": ["left"] * len(left_prepared) + ["right"] * len(right_prepared),
            ENTITY_ID: new_entity_ids(ids, clusters, set()),
        }
    )
    return Resolution(
        candidate_pairs=len(pairs),
        reduction_ratio=_reduction_ratio(len(pairs), left_prepared, right_prepared),
        matches=scored.matches,
        uncertain=scored.uncertain,
        entities=entities,
        fit=scored.fit,
        cut=cut,
        unparsed_dates={
            column: left_unparsed[column] + right_unparsed[column] for column in left_unparsed
        },
    )


def resolve_increment(
    spec: EntitySpec,
    entities: pd.DataFrame,
    changed: pd.DataFrame,
    labels: pd.DataFrame | None = None,
) -> Resolution:
    """Fold the day's new and changed records into existing entities.

    `entities` are the previous records with their `entity_id`, ideally with their prepared
    columns and blocking keys cached (see `with_prepared_keys`; without them the whole
    snapshot is prepared afresh); `changed` are new records and new versions of existing
    ones (same id; the last one wins). Only changed records are prepared and compared,
    against every current record that shares a block with them (found by their cached keys;
    a sorted-neighbourhood pass needs the whole table), so the cost grows with the size of
    `changed` apart from a few vectorised scans of the snapshot. Existing entities are kept
    whole (a changed record leaves its old entity and is matched afresh); they only grow or
    merge. Ids follow the stable-id rules of `clustering`.
    `candidate_pairs` counts the compared pairs; the returned `entities` cover all records.
    The classifier is also fitted on the pairs within a sample of whole existing entities
    (`spec.fit_sample_size` records at most), so that a small day still gets a stable model,
    at a constant extra cost. A labelled match that blocking missed is added when one of its
    records changed and the other shares a block with a changed record (or changed too).
    """
    changed = changed.drop_duplicates(spec.id_column, keep="last")
    entities = with_prepared_keys(spec, entities)
    kept = _kept(spec, entities, cast(pd.Series, changed[spec.id_column]))
    columns = prepared_columns(spec)
    changed_prepared = prepare_records(spec, changed)
    changed_columns = cast(pd.DataFrame, changed_prepared[columns])
    changed_keys = block_keys(spec, changed_prepared)
    near = sharing_a_block(spec, kept, changed_keys)
    near_cache = kept.loc[near, [spec.id_column, *cache_columns(spec)]]
    local = pd.concat([from_cache(spec, near_cache), changed_columns])
    local_keys = pd.concat(
        [near_cache[block_columns(spec)].set_axis(local.index[: len(near_cache)]), changed_keys]
    )
    pairs = _with_missed_matches(
        increment_pairs(spec, changed_columns, local, (changed_keys, local_keys)),
        labels,
        changed_columns.index,
        local.index,
    )
    training = sample_features(spec, kept)
    background = pd.concat([from_cache(spec, random_rows(kept)), changed_columns])
    pair_space = increment_pair_space(spec, kept, changed)
    scored = scored_matches(spec, pairs, local, local, labels, pair_space, training, background)
    entity_ids = kept[ENTITY_ID].to_numpy(dtype=object, copy=True)
    changed_ids = cast(pd.Series, changed[spec.id_column])
    changed_entities, cut = increment_entity_ids(spec, kept, changed_ids, scored.matches)
    regrouped = kept[spec.id_column].isin(changed_entities.index.tolist()).to_numpy()
    entity_ids[regrouped] = changed_entities.reindex(kept.loc[regrouped, spec.id_column])
    ids = np.concatenate([kept[spec.id_column].to_numpy(), changed_ids.to_numpy()])
    changed_entity_ids = changed_entities.reindex(changed_ids).to_numpy(dtype=object)
    assignment = pd.DataFrame(
        {spec.id_column: ids, ENTITY_ID: np.concatenate([entity_ids, changed_entity_ids])}
    )
    total = len(ids) * (len(ids) - 1) // 2
    return Resolution(
        candidate_pairs=len(pairs),
        reduction_ratio=1 - len(pairs) / total if total else 1.0,
        matches=scored.matches,
        uncertain=scored.uncertain,
        entities=assignment,
        fit=scored.fit,
        cut=cut,
        unparsed_dates=unparsed_dates(spec, changed, changed_prepared),
    )


def _kept(spec: EntitySpec, entities: pd.DataFrame, changed_ids: pd.Series) -> pd.DataFrame:
    """The snapshot's records that did not change. Only their ids, entity ids and cache
    are read: a day of new records only reads the snapshot in place (a copy of its million
    rows took a fifth of an increment's time), else those columns are copied."""
    unchanged = ~entities[spec.id_column].isin(changed_ids).to_numpy()
    if unchanged.all():
        return entities
    return entities.loc[unchanged, [spec.id_column, ENTITY_ID, *cache_columns(spec)]]


def matched_pairs(resolution: Resolution) -> pd.MultiIndex:
    """The matched pairs of a resolution, as a MultiIndex for `pair_quality`."""
    return pd.MultiIndex.from_frame(cast(pd.DataFrame, resolution.matches[["left_id", "right_id"]]))


def _with_missed_matches(
    pairs: pd.MultiIndex, labels: pd.DataFrame | None, left_ids: pd.Index, right_ids: pd.Index
) -> pd.MultiIndex:
    """The candidate pairs plus the labelled matches that blocking missed."""
    if labels is None:
        return pairs
    missed = missed_matches(pairs, labels, left_ids, right_ids)
    return cast(pd.MultiIndex, pairs.append(missed)) if len(missed) else pairs


def _reduction_ratio(pairs: int, *frames: pd.DataFrame) -> float:
    possible = int(full_index_size(*frames))
    return 1 - pairs / possible if possible else 1.0
