"""Entity resolution's entry points: deduplicate a table, link two, or fold in a day's records.

Each run blocks (`blocking`), compares (`compare`), classifies (`classification`), and
clusters the matches into entities with stable ids (`clustering`). A snapshot can cache its
prepared columns and blocking keys (`prepared_keys.with_prepared_keys`), so that
`resolve_increment` prepares and indexes only the day's records (`increments`).
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
from dataplatform.entities.prepared_keys import (
    block_keys,
    cache_columns,
    from_cache,
    sharing_a_block,
    with_prepared_keys,
)
from dataplatform.entities.spec import EntitySpec


@dataclass(frozen=True)
class Resolution:
    """The outcome of one resolution run, with the evidence for each match, the report of
    the fit, what the cluster-size guard cut, and the date values that did not parse."""

    candidate_pairs: int
    reduction_ratio: float
    matches: pd.DataFrame
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
    spec: EntitySpec, records: pd.DataFrame, labelled_pairs: pd.MultiIndex | None = None
) -> Resolution:
    """Deduplicate one table: every record gets an entity id (singletons included)."""
    prepared = prepare_records(spec, records)
    pairs = index_pairs(spec, prepared)
    pair_space = int(full_index_size(prepared))
    matches, fit = scored_matches(spec, pairs, prepared, prepared, labelled_pairs, pair_space)
    ids = prepared.index
    labels, cut = cluster_matches(spec, ids, ids, matches)
    entity_ids = new_entity_ids(ids, labels, set())
    return Resolution(
        candidate_pairs=len(pairs),
        reduction_ratio=_reduction_ratio(len(pairs), prepared),
        matches=matches,
        entities=pd.DataFrame({spec.id_column: ids.to_numpy(), ENTITY_ID: entity_ids}),
        fit=fit,
        cut=cut,
        unparsed_dates=unparsed_dates(spec, records, prepared),
    )


def link(
    spec: EntitySpec,
    left: pd.DataFrame,
    right: pd.DataFrame,
    labelled_pairs: pd.MultiIndex | None = None,
) -> Resolution:
    """Link two tables; `entities` lists the records of both, with a `side` column."""
    left_prepared, right_prepared = prepare_records(spec, left), prepare_records(spec, right)
    pairs = index_pairs(spec, left_prepared, right_prepared)
    pair_space = int(full_index_size(left_prepared, right_prepared))
    matches, fit = scored_matches(
        spec, pairs, left_prepared, right_prepared, labelled_pairs, pair_space
    )
    ids = left_prepared.index.append(right_prepared.index)
    labels, cut = cluster_matches(spec, left_prepared.index, right_prepared.index, matches)
    left_unparsed = unparsed_dates(spec, left, left_prepared)
    right_unparsed = unparsed_dates(spec, right, right_prepared)
    entities = pd.DataFrame(
        {
            spec.id_column: ids.to_numpy(),
            "side": ["left"] * len(left_prepared) + ["right"] * len(right_prepared),
            ENTITY_ID: new_entity_ids(ids, labels, set()),
        }
    )
    return Resolution(
        candidate_pairs=len(pairs),
        reduction_ratio=_reduction_ratio(len(pairs), left_prepared, right_prepared),
        matches=matches,
        entities=entities,
        fit=fit,
        cut=cut,
        unparsed_dates={
            column: left_unparsed[column] + right_unparsed[column] for column in left_unparsed
        },
    )


def resolve_increment(
    spec: EntitySpec,
    entities: pd.DataFrame,
    changed: pd.DataFrame,
    labelled_pairs: pd.MultiIndex | None = None,
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
    at a constant extra cost.
    """
    changed = changed.drop_duplicates(spec.id_column, keep="last")
    entities = with_prepared_keys(spec, entities)
    unchanged = ~entities[spec.id_column].isin(changed[spec.id_column]).to_numpy()
    # Only the ids, entity ids and cache are read from the snapshot: copy no other column.
    kept = entities.loc[unchanged, [spec.id_column, ENTITY_ID, *cache_columns(spec)]]
    columns = prepared_columns(spec)
    changed_prepared = prepare_records(spec, changed)
    changed_columns = cast(pd.DataFrame, changed_prepared[columns])
    near = sharing_a_block(spec, kept, block_keys(spec, changed_prepared))
    local = pd.concat([from_cache(spec, kept[near]), changed_columns])
    pairs = increment_pairs(spec, changed_columns, local)
    training = sample_features(spec, kept)
    background = pd.concat([from_cache(spec, random_rows(kept)), changed_columns])
    pair_space = increment_pair_space(spec, kept, changed)
    matches, fit = scored_matches(
        spec, pairs, local, local, labelled_pairs, pair_space, training, background
    )
    entity_ids = kept[ENTITY_ID].to_numpy(dtype=object, copy=True)
    changed_ids = cast(pd.Series, changed[spec.id_column])
    changed_entities, cut = increment_entity_ids(spec, kept, changed_ids, matches)
    regrouped = kept[spec.id_column].isin(changed_entities.index).to_numpy()
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
        matches=matches,
        entities=assignment,
        fit=fit,
        cut=cut,
        unparsed_dates=unparsed_dates(spec, changed, changed_prepared),
    )


def matched_pairs(resolution: Resolution) -> pd.MultiIndex:
    """The matched pairs of a resolution, as a MultiIndex for `pair_quality`."""
    return pd.MultiIndex.from_frame(cast(pd.DataFrame, resolution.matches[["left_id", "right_id"]]))


def _reduction_ratio(pairs: int, *frames: pd.DataFrame) -> float:
    possible = int(full_index_size(*frames))
    return 1 - pairs / possible if possible else 1.0
