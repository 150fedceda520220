"""Entity resolution with recordlinkage's model: block, compare, classify, cluster, survive.

Candidates come from recordlinkage's indexers (one `Block` per blocking pass and one
`SortedNeighbourhood` per sorted-neighbourhood column; their pairs are united), features from
the vectorised `compare_pairs`, match scores from recordlinkage's `ECMClassifier`
(unsupervised Fellegi-Sunter), the `fellegi_sunter` model (unsupervised, u-probabilities from
random pairs) or `LogisticRegressionClassifier` (when labelled pairs are given). Entities
are the connected components of the matches, with a guard against giant clusters (see
`cluster_nodes`). A snapshot can cache its prepared columns and blocking keys
(`with_prepared_keys`), so that `resolve_increment` prepares and indexes only the day's records.

Entity ids: a new entity is named "E" + its smallest member record id (e.g. "E42"). Ids
are ordered "shortlex" (shorter first, then alphabetically), which for ids made from
integer record ids is numeric order, i.e. oldest first. `resolve_increment` keeps ids
stable: an entity keeps its id when records join it; when existing entities merge, the
merged entity keeps the smallest (oldest) of their ids; a new entity gets a new id by the
rule above (with a ".<n>" suffix in the rare case that id is still used by another entity).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import recordlinkage
from recordlinkage.index import Block, SortedNeighbourhood
from recordlinkage.measures import full_index_size
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from dataplatform.entities.compare import compare_pairs
from dataplatform.entities.fellegi_sunter import fellegi_sunter_scores
from dataplatform.entities.spec import EntitySpec

ENTITY_ID = "entity_id"
ENTITY_PREFIX = "E"
# ECM's estimates are stable long before this many pairs; fitting on more only costs time
# (1M people: the same F1 from 150,000 to 500,000, and 2 s more per run at 500,000).
ECM_FIT_PAIRS = 250_000
# Enough random pairs to see agreement rates of one in a few thousand many times over.
BACKGROUND_PAIRS = 200_000
# An increment draws its random pairs among this many existing records (and the new ones).
BACKGROUND_RECORDS = 5_000
PREPARED_PREFIX = "prepared__"
PREPARED_MARK = f"{PREPARED_PREFIX}keys"


@dataclass(frozen=True)
class Resolution:
    """The outcome of one resolution run, with the evidence for each match."""

    candidate_pairs: int
    reduction_ratio: float
    matches: pd.DataFrame
    entities: pd.DataFrame


@dataclass(frozen=True)
class Background:
    """Features of random record pairs, and the number of pairs the fitted ones come from."""

    features: pd.DataFrame
    pairs: int


def prepare_records(spec: EntitySpec, records: pd.DataFrame) -> pd.DataFrame:
    """Records after the spec's normalisation, indexed by record id (the column is kept)."""
    prepared = spec.prepare(records.copy()) if spec.prepare is not None else records.copy()
    return prepared.set_index(prepared[spec.id_column].rename(None))


def candidate_pairs(
    spec: EntitySpec, records: pd.DataFrame, against: pd.DataFrame | None = None
) -> pd.MultiIndex:
    """The union of the candidate pairs of every blocking and sorted-neighbourhood pass."""
    left = prepare_records(spec, records)
    right = None if against is None else prepare_records(spec, against)
    return index_pairs(spec, left, right)


def index_pairs(
    spec: EntitySpec, left: pd.DataFrame, right: pd.DataFrame | None = None
) -> pd.MultiIndex:
    """Candidate pairs of already prepared records (see `prepare_records`)."""
    if full_index_size(*[frame for frame in (left, right) if frame is not None]) == 0:
        return pd.MultiIndex.from_arrays([[], []], names=["left_id", "right_id"])
    passes = [Block(list(keys)) for keys in spec.blocking] + [
        SortedNeighbourhood(column, window=spec.sorted_neighbourhood_window)
        for column in spec.sorted_neighbourhood
    ]
    left_ids = pd.Index(left.index.unique()).sort_values()
    right_ids = left_ids if right is None else pd.Index(right.index.unique()).sort_values()
    codes = np.unique(
        np.concatenate(
            [_pair_codes(each.index(left, right), left_ids, right_ids) for each in passes]
        )
    )
    width = len(right_ids)
    return pd.MultiIndex(
        levels=[left_ids, right_ids],
        codes=[codes // width, codes % width],
        names=["left_id", "right_id"],
        verify_integrity=False,
    )


def _pair_codes(pairs: pd.MultiIndex, left_ids: pd.Index, right_ids: pd.Index) -> np.ndarray:
    """Each pair as one integer that sorts as the pair does.

    The passes are merged as these codes: recordlinkage's `MultiIndex.union` of them took
    160 of 200 s for 37M pairs (a day of 1M listens), this a few seconds."""
    left = left_ids.get_indexer(pairs.levels[0])[pairs.codes[0]]
    right = right_ids.get_indexer(pairs.levels[1])[pairs.codes[1]]
    return left.astype(np.int64) * len(right_ids) + right


def classify(
    spec: EntitySpec,
    features: pd.DataFrame,
    labelled_pairs: pd.MultiIndex | None = None,
    training: pd.DataFrame | None = None,
    background: Background | None = None,
) -> pd.Series:
    """The match probability of each pair, in [0, 1].

    The model is fitted on `features` plus, if given, the `training` features of other
    pairs (which are not scored). The "fellegi_sunter" classifier also needs `background`
    (see `fellegi_sunter_scores`).

    Supervised (logistic regression) when labelled pairs are given or the spec asks for
    it: `labelled_pairs` are the known matches (in either order), every other pair is taken
    as a non-match. Otherwise unsupervised: recordlinkage's ECM (Fellegi-Sunter fitted by
    expectation-maximisation), which needs binary features: give every comparison whose
    values are not 0/1 a threshold; or the spec's "fellegi_sunter" model.
    """
    if features.empty:
        return pd.Series(np.zeros(0), index=features.index, name="score")
    fitted_on = features if training is None else pd.concat([features, training])
    if labelled_pairs is not None:
        return _supervised_scores(features, fitted_on, labelled_pairs)
    if spec.classifier == "logistic":
        raise ValueError(f"spec {spec.name!r} uses a supervised classifier: pass labelled_pairs")
    if spec.classifier == "fellegi_sunter":
        if background is None:
            raise ValueError("the fellegi_sunter classifier needs background (random) pairs")
        return fellegi_sunter_scores(features, fitted_on, background.features, background.pairs)
    return _ecm_scores(features, fitted_on)


def background_pairs(
    spec: EntitySpec, left: pd.DataFrame, right: pd.DataFrame, pair_space: int
) -> Background:
    """Features of a fixed pseudo-random sample of pairs of distinct records."""
    draws = np.random.default_rng(0)
    count = min(BACKGROUND_PAIRS, pair_space)
    left_rows = draws.integers(len(left), size=count)
    right_rows = draws.integers(len(right), size=count)
    distinct = left.index[left_rows] != right.index[right_rows]
    pairs = pd.MultiIndex.from_arrays(
        [left.index[left_rows[distinct]], right.index[right_rows[distinct]]]
    )
    return Background(compare_pairs(spec, pairs, left, right), pair_space)


def resolve(
    spec: EntitySpec, records: pd.DataFrame, labelled_pairs: pd.MultiIndex | None = None
) -> Resolution:
    """Deduplicate one table: every record gets an entity id (singletons included)."""
    prepared = prepare_records(spec, records)
    pairs = index_pairs(spec, prepared)
    matches = _matches(spec, pairs, prepared, prepared, labelled_pairs, full_index_size(prepared))
    ids = prepared.index
    entity_ids = _new_entity_ids(ids, _cluster_matches(spec, ids, ids, matches), set())
    return Resolution(
        candidate_pairs=len(pairs),
        reduction_ratio=_reduction_ratio(len(pairs), prepared),
        matches=matches,
        entities=pd.DataFrame({spec.id_column: ids.to_numpy(), ENTITY_ID: entity_ids}),
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
    pair_space = full_index_size(left_prepared, right_prepared)
    matches = _matches(spec, pairs, left_prepared, right_prepared, labelled_pairs, pair_space)
    ids = left_prepared.index.append(right_prepared.index)
    labels = _cluster_matches(spec, left_prepared.index, right_prepared.index, matches)
    entities = pd.DataFrame(
        {
            spec.id_column: ids.to_numpy(),
            "side": ["left"] * len(left_prepared) + ["right"] * len(right_prepared),
            ENTITY_ID: _new_entity_ids(ids, labels, set()),
        }
    )
    return Resolution(
        candidate_pairs=len(pairs),
        reduction_ratio=_reduction_ratio(len(pairs), left_prepared, right_prepared),
        matches=matches,
        entities=entities,
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
    merge. Ids follow the module's stable-id rules.
    `candidate_pairs` counts the compared pairs; the returned `entities` cover all records.
    The classifier is also fitted on the pairs within a sample of whole existing entities
    (`spec.fit_sample_size` records at most), so that a small day still gets a stable model,
    at a constant extra cost.
    """
    changed = changed.drop_duplicates(spec.id_column, keep="last")
    entities = with_prepared_keys(spec, entities)
    unchanged = ~entities[spec.id_column].isin(changed[spec.id_column]).to_numpy()
    # Only the ids, entity ids and cache are read from the snapshot: copy no other column.
    kept = entities.loc[unchanged, [spec.id_column, ENTITY_ID, *_cache_names(spec)]]
    columns = prepared_columns(spec)
    changed_prepared = prepare_records(spec, changed)
    near = _sharing_a_block(spec, kept, _block_keys(spec, changed_prepared))
    local = pd.concat([_from_cache(spec, kept[near]), changed_prepared[columns]])
    pairs = _increment_pairs(spec, changed_prepared[columns], local)
    training = _sample_features(spec, kept)
    background = pd.concat([_from_cache(spec, _random_rows(kept)), changed_prepared[columns]])
    pair_space = _increment_pair_space(spec, kept, changed)
    matches = _matches(spec, pairs, local, local, labelled_pairs, pair_space, training, background)
    entity_ids = kept[ENTITY_ID].to_numpy(dtype=object, copy=True)
    changed_entities = _increment_entity_ids(spec, kept, changed[spec.id_column], matches)
    regrouped = kept[spec.id_column].isin(changed_entities.index).to_numpy()
    entity_ids[regrouped] = changed_entities.reindex(kept.loc[regrouped, spec.id_column])
    ids = np.concatenate([kept[spec.id_column].to_numpy(), changed[spec.id_column].to_numpy()])
    changed_ids = changed_entities.reindex(changed[spec.id_column]).to_numpy(dtype=object)
    assignment = pd.DataFrame(
        {spec.id_column: ids, ENTITY_ID: np.concatenate([entity_ids, changed_ids])}
    )
    total = len(ids) * (len(ids) - 1) // 2
    return Resolution(
        candidate_pairs=len(pairs),
        reduction_ratio=1 - len(pairs) / total if total else 1.0,
        matches=matches,
        entities=assignment,
    )


def prepared_columns(spec: EntitySpec) -> list[str]:
    """The prepared columns that blocking and comparing read."""
    used = [*(column for keys in spec.blocking for column in keys), *spec.sorted_neighbourhood]
    used += [comparison.column for comparison in spec.comparisons]
    return list(dict.fromkeys(used))


def with_prepared_keys(spec: EntitySpec, snapshot: pd.DataFrame) -> pd.DataFrame:
    """The snapshot with its prepared columns and one hashed key per blocking pass cached
    (`prepared__<column>`, `prepared__block_<pass>`, and `prepared__keys` = True), so that
    `resolve_increment` prepares only the changed records. Only rows that lack the cache
    (`prepared__keys` missing, e.g. the day's records appended to a cached snapshot) are
    prepared; store the result as the next day's snapshot."""
    missing = (
        snapshot[PREPARED_MARK].isna().to_numpy()
        if PREPARED_MARK in snapshot
        else np.ones(len(snapshot), dtype=bool)
    )
    if not missing.any():
        return snapshot
    fresh = snapshot[missing].drop(columns=_cache_names(spec), errors="ignore")
    prepared = prepare_records(spec, fresh)
    cache = prepared[prepared_columns(spec)].add_prefix(PREPARED_PREFIX)
    cache = pd.concat([cache, _block_keys(spec, prepared)], axis=1).assign(**{PREPARED_MARK: True})
    fresh = pd.concat([fresh, cache.set_axis(fresh.index)], axis=1)
    in_input_order = np.argsort(
        np.concatenate([np.flatnonzero(~missing), np.flatnonzero(missing)]), kind="stable"
    )
    return pd.concat([snapshot[~missing], fresh]).iloc[in_input_order]


def without_prepared_keys(snapshot: pd.DataFrame) -> pd.DataFrame:
    """The snapshot without the cache `with_prepared_keys` adds (e.g. for golden records)."""
    return snapshot.loc[:, ~snapshot.columns.str.startswith(PREPARED_PREFIX)]


def _cache_names(spec: EntitySpec) -> list[str]:
    blocks = [f"{PREPARED_PREFIX}block_{number}" for number in range(len(spec.blocking))]
    return (
        [PREPARED_PREFIX + column for column in prepared_columns(spec)] + blocks + [PREPARED_MARK]
    )


def _block_keys(spec: EntitySpec, prepared: pd.DataFrame) -> pd.DataFrame:
    """One 64-bit hash of each blocking pass's key per record (canonical across dtypes, so
    that a key hashed today equals the same key hashed on another day)."""
    keys = {
        f"{PREPARED_PREFIX}block_{number}": pd.util.hash_pandas_object(
            pd.DataFrame({column: _canonical(prepared[column]) for column in columns}),
            index=False,
        ).to_numpy()
        for number, columns in enumerate(spec.blocking)
    }
    return pd.DataFrame(keys, index=prepared.index)


def _canonical(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]").astype("int64").astype("float64")
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    return values.astype(object).where(values.notna(), None).astype(str)


def _sharing_a_block(
    spec: EntitySpec, kept: pd.DataFrame, changed_keys: pd.DataFrame
) -> np.ndarray:
    """Which kept records share a blocking key with a changed record (all of them when a
    sorted-neighbourhood pass needs the whole order). Hash collisions only add records:
    recordlinkage's indexers then pair on the actual values."""
    if spec.sorted_neighbourhood:
        return np.ones(len(kept), dtype=bool)
    near = np.zeros(len(kept), dtype=bool)
    for name in changed_keys:
        near |= pd.Series(kept[name].to_numpy()).isin(changed_keys[name].to_numpy()).to_numpy()
    return near


def _from_cache(spec: EntitySpec, cached: pd.DataFrame) -> pd.DataFrame:
    """Prepared records (as `prepare_records` gives them) from a snapshot's cache."""
    columns = prepared_columns(spec)
    prepared = cached[[PREPARED_PREFIX + column for column in columns]].set_axis(columns, axis=1)
    return prepared.set_axis(pd.Index(cached[spec.id_column].to_numpy()), axis=0)


def _random_rows(records: pd.DataFrame) -> pd.DataFrame:
    """A fixed pseudo-random sample of `BACKGROUND_RECORDS` rows (all if there are fewer)."""
    if len(records) <= BACKGROUND_RECORDS:
        return records
    return records.iloc[np.random.default_rng(0).choice(len(records), BACKGROUND_RECORDS, False)]


def golden_records(spec: EntitySpec, records: pd.DataFrame, entities: pd.DataFrame) -> pd.DataFrame:
    """One record per entity by survivorship: most recent, most complete.

    For each column the golden value is the value of the most recent member record
    (by `recency_column`; input order when the spec has none) among those where it is not
    null, so a newer record wins but never blanks out a value an older record knew. Adds
    `member_count`; the record id column is replaced by `entity_id`.
    """
    members = records.merge(entities[[spec.id_column, ENTITY_ID]], on=spec.id_column)
    if spec.recency_column is not None:
        members = members.sort_values(
            spec.recency_column, ascending=False, na_position="last", kind="stable"
        )
    grouped = members.drop(columns=spec.id_column).groupby(ENTITY_ID, sort=True)
    golden = grouped.first()
    golden.insert(0, "member_count", grouped.size())
    return golden.reset_index()


def pair_quality(predicted: pd.MultiIndex, true_pairs: pd.MultiIndex) -> dict[str, float]:
    """Precision, recall and F1 of predicted pairs against true pairs, in either order."""
    predicted_set, true_set = _unordered(predicted), _unordered(true_pairs)
    hits = len(predicted_set & true_set)
    precision = hits / len(predicted_set) if predicted_set else 1.0
    recall = hits / len(true_set) if true_set else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def true_pairs_from_entities(ids: pd.Series, true_entity: pd.Series) -> pd.MultiIndex:
    """Every pair of records that belong to the same true entity."""
    frame = pd.DataFrame({"id": np.asarray(ids), "entity": np.asarray(true_entity)})
    frame["position"] = np.arange(len(frame))
    together = frame.merge(frame, on="entity", suffixes=("_left", "_right"))
    together = together[together["position_left"] < together["position_right"]]
    return pd.MultiIndex.from_arrays(
        [together["id_left"].to_numpy(), together["id_right"].to_numpy()],
        names=["left_id", "right_id"],
    )


def matched_pairs(resolution: Resolution) -> pd.MultiIndex:
    """The matched pairs of a resolution, as a MultiIndex for `pair_quality`."""
    return pd.MultiIndex.from_frame(resolution.matches[["left_id", "right_id"]])


def entity_pairs(entities: pd.DataFrame, id_column: str) -> pd.MultiIndex:
    """Every pair of records put in the same entity (transitive closure of the matches)."""
    return true_pairs_from_entities(entities[id_column], entities[ENTITY_ID])


def cluster_nodes(
    sizes: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    scores: np.ndarray,
    max_cluster_size: int,
) -> np.ndarray:
    """A cluster label per node: connected components, with a guard against giant clusters.

    Nodes have sizes (records they stand for). A component whose total size exceeds
    `max_cluster_size` is rebuilt from its edges strongest first (ties: input order), and an
    edge that would join two parts into one larger than the limit is dropped; so the
    weakest links of an over-large chain are the ones cut, and no cluster exceeds the limit
    unless a single node already does.
    """
    count = len(sizes)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(count, count))
    _, labels = connected_components(graph, directed=False)
    component_sizes = np.bincount(labels, weights=sizes)
    oversized = component_sizes[labels] > max_cluster_size
    if not oversized.any():
        return labels
    in_giant = oversized[left]
    roots = _capped_union(
        sizes, left[in_giant], right[in_giant], scores[in_giant], max_cluster_size
    )
    return np.where(oversized, labels.max() + 1 + roots, labels)


def _capped_union(
    sizes: np.ndarray, left: np.ndarray, right: np.ndarray, scores: np.ndarray, limit: int
) -> np.ndarray:
    parent = np.arange(len(sizes))
    cluster_size = sizes.astype(np.float64).copy()

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for edge in np.argsort(-scores, kind="stable"):
        a, b = root(left[edge]), root(right[edge])
        if a != b and cluster_size[a] + cluster_size[b] <= limit:
            parent[b] = a
            cluster_size[a] += cluster_size[b]
    return np.array([root(node) for node in range(len(sizes))])


def _reduction_ratio(pairs: int, *frames: pd.DataFrame) -> float:
    possible = full_index_size(*frames)
    return 1 - pairs / possible if possible else 1.0


def _matches(
    spec: EntitySpec,
    pairs: pd.MultiIndex,
    left: pd.DataFrame,
    right: pd.DataFrame,
    labelled_pairs: pd.MultiIndex | None,
    pair_space: int,
    training: pd.DataFrame | None = None,
    background_records: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Scored candidate pairs at or above the threshold; `pair_space` counts the pairs the
    candidates (and `training`) were drawn from; random pairs for the "fellegi_sunter"
    model come from `background_records` (default: the left and right records)."""
    features = compare_pairs(spec, pairs, left, right)
    background = None
    if spec.classifier == "fellegi_sunter" and labelled_pairs is None and len(features):
        if background_records is not None:
            left = right = background_records
        background = background_pairs(spec, left, right, pair_space)
    scores = classify(spec, features, labelled_pairs, training, background)
    # Filter before adding the score: copying every candidate's features would double the peak.
    is_match = scores.to_numpy() >= spec.match_threshold
    evidence = features[is_match].assign(score=scores.to_numpy()[is_match])
    columns = ["left_id", "right_id", "score", *features.columns]
    return evidence.reset_index(names=["left_id", "right_id"])[columns]


def _ecm_scores(features: pd.DataFrame, fitted_on: pd.DataFrame) -> pd.Series:
    not_binary = [label for label in fitted_on if not _is_binary(fitted_on[label].to_numpy())]
    if not_binary:
        raise ValueError(f"ECM needs binary features: give a threshold to {not_binary}")
    model = recordlinkage.ECMClassifier()
    model.fit(_at_most(fitted_on, ECM_FIT_PAIRS).astype(np.int8))
    # Binary features take few distinct patterns: score each pattern once.
    codes = np.zeros(len(features), dtype=np.int64)
    for bit, label in enumerate(features):
        codes |= features[label].to_numpy().astype(np.int64) << bit
    _, first, pattern_of_pair = np.unique(codes, return_index=True, return_inverse=True)
    patterns = features.iloc[first].astype(np.int8)
    pattern_scores = model.prob(patterns).to_numpy()
    return pd.Series(pattern_scores[pattern_of_pair], index=features.index, name="score")


def _is_binary(values: np.ndarray) -> bool:
    return bool(((values == 0) | (values == 1)).all())  # Series.isin hashes: 10x slower


def _at_most(features: pd.DataFrame, count: int) -> pd.DataFrame:
    """A fixed pseudo-random sample of `count` rows (all rows if there are fewer)."""
    if len(features) <= count:
        return features
    return features.sample(count, random_state=0)


def _supervised_scores(
    features: pd.DataFrame, fitted_on: pd.DataFrame, labelled_pairs: pd.MultiIndex
) -> pd.Series:
    known = _unordered(labelled_pairs)
    is_match = np.array([_pair_key(a, b) in known for a, b in fitted_on.index])
    if not is_match.any():
        raise ValueError("none of the labelled_pairs is a candidate pair: nothing to learn from")
    model = recordlinkage.LogisticRegressionClassifier()
    model.fit(fitted_on, fitted_on.index[is_match])
    return model.prob(features).rename("score")


def _sample_features(spec: EntitySpec, kept: pd.DataFrame) -> pd.DataFrame:
    """Features of the candidate pairs within whole existing entities: the entities of
    records drawn in a fixed pseudo-random order, until `spec.fit_sample_size` records."""
    drawn = np.random.default_rng(0).permutation(len(kept))[: spec.fit_sample_size]
    candidates = pd.unique(kept[ENTITY_ID].to_numpy()[drawn])
    members = kept[kept[ENTITY_ID].isin(candidates).to_numpy()]
    sizes = members[ENTITY_ID].value_counts().reindex(candidates).to_numpy()
    chosen = candidates[np.cumsum(sizes) <= spec.fit_sample_size]
    sample = _from_cache(spec, members[members[ENTITY_ID].isin(chosen).to_numpy()])
    return compare_pairs(spec, index_pairs(spec, sample), sample)


def _cluster_matches(
    spec: EntitySpec, left_ids: pd.Index, right_ids: pd.Index, matches: pd.DataFrame
) -> np.ndarray:
    """Cluster labels for the left records followed by the right ones (the same for dedup)."""
    same_table = left_ids is right_ids
    offset = 0 if same_table else len(left_ids)
    sizes = np.ones(len(left_ids) + offset)
    left_nodes = left_ids.get_indexer(matches["left_id"])
    right_nodes = right_ids.get_indexer(matches["right_id"]) + offset
    labels = cluster_nodes(
        sizes, left_nodes, right_nodes, matches["score"].to_numpy(), spec.max_cluster_size
    )
    return labels if not same_table else labels[: len(left_ids)]


def _new_entity_ids(ids: pd.Index, labels: np.ndarray, taken: set[str]) -> np.ndarray:
    """Name each cluster "E" + its smallest record id, avoiding ids in `taken`."""
    # Ranks of the sorted ids make the per-cluster minimum an integer (fast) reduction.
    ranks, sorted_ids = pd.factorize(ids, sort=True)
    smallest = sorted_ids[pd.Series(ranks).groupby(labels).transform("min").to_numpy()]
    names = np.array([f"{ENTITY_PREFIX}{record_id}" for record_id in smallest], dtype=object)
    return np.array([_free_id(name, taken) for name in names], dtype=object) if taken else names


def _free_id(name: str, taken: set[str]) -> str:
    candidate, suffix = name, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{name}.{suffix}"
    return candidate


def _increment_pairs(
    spec: EntitySpec, changed: pd.DataFrame, current: pd.DataFrame
) -> pd.MultiIndex:
    """Pairs of a changed record with any current record, each unordered pair once."""
    pairs = index_pairs(spec, changed, current)
    left, right = pairs.get_level_values(0), pairs.get_level_values(1)
    changed_position = pd.Series(np.arange(len(changed)), index=changed.index)
    right_changed_position = changed_position.reindex(right).to_numpy()
    left_position = changed_position.reindex(left).to_numpy()
    # Two changed records meet twice, as (a, b) and (b, a): keep the first orientation.
    twice = ~np.isnan(right_changed_position) & (right_changed_position <= left_position)
    return pairs[(left != right) & ~twice]


def _increment_pair_space(spec: EntitySpec, kept: pd.DataFrame, changed: pd.DataFrame) -> int:
    """Pairs an increment's candidates come from: changed x current, plus the training
    sample's pairs (see `_sample_features`)."""
    changed_count, kept_count = len(changed), len(kept)
    sampled = min(spec.fit_sample_size, kept_count)
    return (
        changed_count * kept_count
        + changed_count * (changed_count - 1) // 2
        + sampled * (sampled - 1) // 2
    )


def _increment_entity_ids(
    spec: EntitySpec, kept: pd.DataFrame, changed_ids: pd.Series, matches: pd.DataFrame
) -> pd.Series:
    """Entity id of each changed record and of each member of an existing entity that a
    match reaches (existing entities are nodes, changed records join them); the other
    records keep theirs."""
    matched = np.concatenate([matches["left_id"].to_numpy(), matches["right_id"].to_numpy()])
    reached = kept[spec.id_column].isin(matched).to_numpy()
    taken = set(pd.unique(kept[ENTITY_ID]))
    kept = kept[kept[ENTITY_ID].isin(pd.unique(kept[ENTITY_ID].to_numpy()[reached])).to_numpy()]
    existing = pd.Index(pd.unique(kept[ENTITY_ID]))
    member_counts = kept[ENTITY_ID].value_counts().reindex(existing).to_numpy()
    node_of_record = pd.concat(
        [
            pd.Series(existing.get_indexer(kept[ENTITY_ID]), index=kept[spec.id_column].to_numpy()),
            pd.Series(len(existing) + np.arange(len(changed_ids)), index=changed_ids.to_numpy()),
        ]
    )
    sizes = np.concatenate([member_counts, np.ones(len(changed_ids))])
    left = node_of_record.reindex(matches["left_id"]).to_numpy()
    right = node_of_record.reindex(matches["right_id"]).to_numpy()
    labels = cluster_nodes(sizes, left, right, matches["score"].to_numpy(), spec.max_cluster_size)
    names = _names_of_clusters(existing, changed_ids, labels, taken)
    return pd.Series(names[node_of_record.to_numpy()], index=node_of_record.index)


def _names_of_clusters(
    existing: pd.Index, changed_ids: pd.Series, labels: np.ndarray, taken: set[str]
) -> np.ndarray:
    """Per node: the oldest existing entity id of its cluster, else a new id (not in `taken`,
    the ids of the existing entities, nor given to another cluster)."""
    names = existing.to_numpy(dtype=object)
    existing_nodes = pd.DataFrame({"label": labels[: len(existing)], "name": names})
    existing_nodes["length"] = existing_nodes["name"].str.len()
    oldest = (
        existing_nodes.sort_values(["label", "length", "name"])
        .drop_duplicates("label")
        .set_index("label")["name"]
    )
    named = oldest.reindex(labels).to_numpy(dtype=object)
    unnamed = pd.isna(named)
    if unnamed.any():
        record_ids = pd.Index(np.concatenate([np.full(len(existing), None), changed_ids]))
        named[unnamed] = _new_entity_ids(record_ids[unnamed], labels[unnamed], taken)
    return named


def _pair_key(a: object, b: object) -> tuple[object, object]:
    return (a, b) if str(a) <= str(b) else (b, a)


def _unordered(pairs: pd.MultiIndex) -> set[tuple[object, object]]:
    return {_pair_key(a, b) for a, b in pairs}
