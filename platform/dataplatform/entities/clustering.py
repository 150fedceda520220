"""Entities from matches: clusters of matched records, and the stable ids that name them.

Entities are the connected components of the matches, with a guard against giant clusters
(see `cluster_nodes`). A chain of matches can join records that the model judged apart: on
RLdata10000 "WALTER HERRMANN" matched one of two "WALTRAUD HERRMANN" records (0.74) though
he scored 0.01 against the other. So a component holding two records compared and scored
under the review band (`spec.review_band`'s lower end: the model is sure they differ; a
labelled non-match scores 0) is rebuilt by average linkage (`_average_linkage`): its parts
merge, strongest match first, only while the compared pairs a merge puts in one entity
score on average at or above the threshold, as a single pair must. A pair within the band
is uncertain and left to review: on the people in households, rebuilding on every pair
scored under the threshold merged fewer housemates without labels but not with them, where
the labels' m table scores twins higher, so labels lowered the other households' F1 (0.9774
to 0.9751). `resolve_increment` keeps connected components.

Entity ids: a new entity is named "E" + its smallest member record id (e.g. "E42"). Ids
are ordered "shortlex" (shorter first, then alphabetically), which for ids made from
integer record ids is numeric order, i.e. oldest first. `resolve_increment` keeps ids
stable: an entity keeps its id when records join it; when existing entities merge, the
merged entity keeps the smallest (oldest) of their ids; a new entity gets a new id by the
rule above (with a ".<n>" suffix in the rare case that id is still used by another entity).
"""

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from dataplatform.entities.spec import EntitySpec

ENTITY_ID = "entity_id"
ENTITY_PREFIX = "E"


@dataclass(frozen=True)
class Cut:
    """What the size guard did: the over-large clusters it split, and the records in them."""

    clusters: int = 0
    records: int = 0


def cluster_nodes(
    sizes: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    scores: np.ndarray,
    max_cluster_size: int,
) -> tuple[np.ndarray, Cut]:
    """A cluster label per node: connected components, with a guard against giant clusters;
    and what the guard cut.

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
        return labels, Cut()
    cut = Cut(
        int((component_sizes > max_cluster_size).sum()),
        int(component_sizes[component_sizes > max_cluster_size].sum()),
    )
    in_giant = oversized[left]
    roots = _capped_union(
        sizes, left[in_giant], right[in_giant], scores[in_giant], max_cluster_size
    )
    return np.where(oversized, labels.max() + 1 + roots, labels), cut


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


def cluster_matches(
    spec: EntitySpec,
    left_ids: pd.Index,
    right_ids: pd.Index,
    matches: pd.DataFrame,
    below: pd.DataFrame | None = None,
    threshold: float = 0.5,
) -> tuple[np.ndarray, Cut]:
    """Cluster labels for the left records followed by the right ones (the same for dedup),
    and what the size guard cut. `below` holds compared pairs (`left_id`, `right_id`,
    `score`) scored under `threshold`: a component holding one scored under the review
    band is rebuilt by average linkage (see the module docstring)."""
    same_table = left_ids is right_ids
    offset = 0 if same_table else len(left_ids)
    sizes = np.ones(len(left_ids) + offset)
    left_nodes = left_ids.get_indexer(matches["left_id"])
    right_nodes = right_ids.get_indexer(matches["right_id"]) + offset
    scores = matches["score"].to_numpy()
    labels, cut = cluster_nodes(sizes, left_nodes, right_nodes, scores, spec.max_cluster_size)
    if below is not None and len(below):
        labels = _average_linkage(
            labels,
            np.concatenate([left_nodes, left_ids.get_indexer(below["left_id"])]),
            np.concatenate([right_nodes, right_ids.get_indexer(below["right_id"]) + offset]),
            np.concatenate([scores, below["score"].to_numpy()]),
            threshold,
            spec.review_band[0],
        )
    return (labels if not same_table else labels[: len(left_ids)]), cut


def _average_linkage(
    labels: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    apart: float,
) -> np.ndarray:
    """The cluster labels with every cluster that holds a pair scored under `apart` rebuilt
    from its pairs, strongest first: two parts merge when the mean score of the pairs
    between them that were compared is at or above `threshold`."""
    inside = labels[left] == labels[right]
    suspect = np.unique(labels[left[inside & (scores < apart)]])
    rebuilt = inside & np.isin(labels[left], suspect)
    left, right, scores = left[rebuilt], right[rebuilt], scores[rebuilt]
    score_of = {
        (min(a, b), max(a, b)): score
        for a, b, score in zip(left.tolist(), right.tolist(), scores.tolist(), strict=True)
    }
    parent = {int(node): int(node) for node in np.unique(np.concatenate([left, right]))}
    members = {node: [node] for node in parent}

    def root(node: int) -> int:
        while parent[node] != node:
            node = parent[node]
        return node

    for edge in np.argsort(-scores, kind="stable"):
        if scores[edge] < threshold:
            break
        a, b = root(int(left[edge])), root(int(right[edge]))
        if a == b:
            continue
        cross = [
            score_of[key]
            for x in members[a]
            for y in members[b]
            if (key := (min(x, y), max(x, y))) in score_of
        ]
        if sum(cross) >= threshold * len(cross):
            parent[b] = a
            members[a] += members.pop(b)
    relabelled = labels.copy()
    for node in parent:
        relabelled[node] = labels.max() + 1 + root(node)
    return relabelled


def new_entity_ids(ids: pd.Index, labels: np.ndarray, taken: set[str]) -> np.ndarray:
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


def increment_entity_ids(
    spec: EntitySpec, kept: pd.DataFrame, changed_ids: pd.Series, matches: pd.DataFrame
) -> tuple[pd.Series, Cut]:
    """Entity id of each changed record and of each member of an existing entity that a
    match reaches (existing entities are nodes, changed records join them), and what the
    size guard cut; the other records keep their ids."""
    matched = np.concatenate([matches["left_id"].to_numpy(), matches["right_id"].to_numpy()])
    reached = cast(pd.Series, kept[spec.id_column]).isin(matched).to_numpy()
    entity_ids = cast(pd.Series, kept[ENTITY_ID])
    taken = set(pd.unique(entity_ids))
    reached_entities = pd.unique(entity_ids.to_numpy()[reached])
    kept = cast(pd.DataFrame, kept[entity_ids.isin(reached_entities).to_numpy()])
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
    labels, cut = cluster_nodes(
        sizes, left, right, matches["score"].to_numpy(), spec.max_cluster_size
    )
    names = _names_of_clusters(existing, changed_ids, labels, taken)
    return pd.Series(names[node_of_record.to_numpy()], index=node_of_record.index), cut


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
        named[unnamed] = new_entity_ids(record_ids[unnamed], labels[unnamed], taken)
    return named
