"""A failed blocking check (schema drift) stops downstream assets; warnings do not. List
columns are written as Arrow lists and their references checked element by element."""

from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dataplatform.cleaning.tables import PLAYLISTS, TRACKS
from dataplatform.cleaning.validation import REJECT_REASON
from dataplatform.defs.cleaning.assets import build_cleaned_asset
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from platform_tests.events import check_results

DAY = "2026-03-04"
clean_tracks = build_cleaned_asset(TRACKS)


@dg.asset(deps=[dg.AssetKey(["cleaned", "tracks"])], group_name="downstream")
def track_report() -> pd.DataFrame:
    return pd.DataFrame({"ok": [True]})


def check_evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        event.asset_check_evaluation_data.check_name: event.asset_check_evaluation_data
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    }


def write_raw_tracks(data: Path, frame: pd.DataFrame) -> None:
    path = data / "raw" / "tracks" / f"{DAY}.parquet"
    path.parent.mkdir(parents=True)
    frame.astype("string").to_parquet(path)


def raw_tracks(**overrides: list) -> pd.DataFrame:
    columns = {
        "track_id": ["1", "2"],
        "title": ["Song", "Other"],
        "artist": ["Band", "Band"],
        "album": ["A", None],
        "genre": ["Rock", "pop"],
        "duration_ms": ["200000", "180000"],
        "release_date": ["2020-01-01", "2021-05-05"],
        "popularity": ["50", "60"],
        "updated_at": ["2026-03-04T01:00:00Z", "2026-03-04T02:00:00Z"],
    }
    return pd.DataFrame(columns | overrides)


def materialize_with_downstream(data: Path) -> dg.ExecuteInProcessResult:
    raw = dg.AssetSpec(["raw", "tracks"], partitions_def=clean_tracks.partitions_def)
    return dg.materialize(
        [raw, clean_tracks, track_report],
        selection=[*clean_tracks.keys, track_report.key],
        partition_key=DAY,
        resources={"io_manager": ParquetIOManager(base_path=str(data))},
        raise_on_error=False,
    )


def test_clean_data_passes_checks_and_reaches_downstream(tmp_path: Path) -> None:
    write_raw_tracks(tmp_path, raw_tracks())

    result = materialize_with_downstream(tmp_path)

    assert result.success
    assert result.asset_materializations_for_node("track_report")


def test_schema_drift_blocks_downstream_but_keeps_the_data(tmp_path: Path) -> None:
    write_raw_tracks(tmp_path, raw_tracks().drop(columns=["genre"]))

    result = materialize_with_downstream(tmp_path)

    assert check_results(result)[("tracks", "schema_matches")] is False
    assert not result.asset_materializations_for_node("track_report")
    assert (tmp_path / "cleaned" / "tracks" / f"{DAY}.parquet").exists()


clean_playlists = build_cleaned_asset(PLAYLISTS)


def write_partition(data: Path, key: tuple[str, ...], frame: pd.DataFrame) -> None:
    path = data.joinpath(*key, f"{DAY}.parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)


def test_list_column_is_typed_and_its_elements_checked_against_the_referenced_table(
    tmp_path: Path,
) -> None:
    write_partition(tmp_path, ("cleaned", "tracks"), pd.DataFrame({"track_id": [1, 2, 3]}))
    write_partition(tmp_path, ("cleaned", "users"), pd.DataFrame({"user_id": [7]}))
    raw = {
        "playlist_id": ["1", "2", "3", "4"],
        "user_id": ["7", "7", "7", "7"],
        "name": ["Mix", None, "Gym", "Late"],
        "is_public": ["true", "false", "TRUE", "maybe"],
        "track_ids": ["[1, 2]", "[3, 404]", "[]", "[1]"],
        "updated_at": ["2026-03-04T01:00:00Z"] * 4,
    }
    write_partition(tmp_path, ("raw", "playlists"), pd.DataFrame(raw).astype("string"))
    upstream = [
        dg.AssetSpec(key, partitions_def=clean_playlists.partitions_def)
        for key in (["raw", "playlists"], ["cleaned", "tracks"], ["cleaned", "users"])
    ]

    result = dg.materialize(
        [*upstream, clean_playlists],
        selection=[clean_playlists],
        partition_key=DAY,
        resources={"io_manager": ParquetIOManager(base_path=str(tmp_path))},
    )

    table = pq.read_table(tmp_path / "cleaned" / "playlists" / f"{DAY}.parquet")
    assert table.schema.field("track_ids").type == pa.list_(pa.int64())
    assert table.column("track_ids").to_pylist() == [[1, 2], [3, 404], []]
    assert table.column("is_public").to_pylist() == [True, False, True]
    rejects = pd.read_parquet(tmp_path / "cleaned" / "playlists_rejects" / f"{DAY}.parquet")
    assert rejects[REJECT_REASON].tolist() == ["is_public: 'maybe' is not a valid bool"]
    reference = check_evaluations(result)["references_known"]
    assert reference.passed is False  # 1 of 4 elements is unknown: over the 5% allowed
    assert reference.metadata["unknown_track_ids"].value == 1
    assert reference.metadata["track_ids_orphan_share"].value == 0.25
    assert reference.metadata["unknown_user_id"].value == 0
