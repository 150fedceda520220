"""File-arrival sensor: stability wait, content-hash run keys, skips, refusals, small cursor."""

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from dataplatform.defs.landing.sensors import build_landing_sensor
from dataplatform.landing.datasets import FILE_TAG, REVIEWS, SHA256_TAG, partition_key
from dataplatform.landing.zone import LandingZone, content_sha256

sensor = build_landing_sensor(REVIEWS, "land_reviews_job")


@pytest.fixture
def zone(tmp_path: Path) -> LandingZone:
    (tmp_path / "landing" / "reviews").mkdir(parents=True)
    return LandingZone(root=str(tmp_path / "landing"))


def drop(zone: LandingZone, name: str, content: str) -> Path:
    path = zone.dataset_dir("reviews") / name
    path.write_text(content)
    return path


def tick(zone: LandingZone, instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing": zone})
    return sensor(context)


def test_a_file_is_requested_once_it_is_stable_with_a_content_hash_run_key(
    zone: LandingZone,
) -> None:
    path = drop(zone, "new reviews.csv", "text,rating\nlovely,5\n")
    sha = content_sha256(path)
    with dg.instance_for_test() as instance:
        first = tick(zone, instance, None)
        second = tick(zone, instance, first.cursor)
        third = tick(zone, instance, second.cursor)

    assert first.run_requests == []
    [request] = second.run_requests
    assert request.run_key == f"reviews:{sha}"
    assert request.partition_key == partition_key("new reviews.csv", sha)
    assert request.tags[FILE_TAG] == "new reviews.csv" and request.tags[SHA256_TAG] == sha
    [add] = second.dynamic_partitions_requests
    assert list(add.partition_keys) == [request.partition_key]
    assert third.run_requests == []
    assert json.loads(third.cursor) == {
        "new reviews.csv": [path.stat().st_size, path.stat().st_mtime_ns, sha]
    }


def test_a_file_still_growing_waits(zone: LandingZone) -> None:
    path = drop(zone, "big.csv", "text,rating\n")
    with dg.instance_for_test() as instance:
        first = tick(zone, instance, None)
        with path.open("a") as more:
            more.write("still,4\n")
        second = tick(zone, instance, first.cursor)
        third = tick(zone, instance, second.cursor)

    assert second.run_requests == []
    assert len(third.run_requests) == 1


def test_a_changed_file_is_processed_again_under_a_new_run_key(zone: LandingZone) -> None:
    path = drop(zone, "reviews.csv", "text,rating\nok,3\n")
    with dg.instance_for_test() as instance:
        cursor = tick(zone, instance, tick(zone, instance, None).cursor).cursor
        path.write_text("text,rating\nbetter,4\n")
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
        cursor = tick(zone, instance, cursor).cursor
        changed = tick(zone, instance, cursor)

    [request] = changed.run_requests
    assert request.run_key == f"reviews:{content_sha256(path)}"


def test_temporary_and_hidden_files_are_left_alone(zone: LandingZone) -> None:
    for name in (".hidden.csv", "upload.csv.part", "copy.tmp", "~$sheet.xlsx"):
        drop(zone, name, "text,rating\n")
    with dg.instance_for_test() as instance:
        result = tick(zone, instance, tick(zone, instance, None).cursor)

    assert result.run_requests == []
    assert json.loads(result.cursor) == {}


def test_a_symlink_is_refused_unread_and_quarantined_with_its_reason(
    zone: LandingZone, tmp_path: Path
) -> None:
    secret = tmp_path / "outside.csv"
    secret.write_text("text,rating\nsecret,1\n")
    (zone.dataset_dir("reviews") / "link.csv").symlink_to(secret)
    with dg.instance_for_test() as instance:
        result = tick(zone, instance, None)

    assert result.run_requests == []
    quarantine = Path(zone.root) / "_quarantine" / "reviews"
    [error_file] = quarantine.glob("*.error.json")
    assert json.loads(error_file.read_text())["found"] == "a symbolic link"
    assert secret.read_text() == "text,rating\nsecret,1\n"
    assert not (zone.dataset_dir("reviews") / "link.csv").exists()


def test_the_same_bytes_dropped_again_are_archived_without_a_second_run(zone: LandingZone) -> None:
    path = drop(zone, "again.csv", "text,rating\nsame,2\n")
    key = partition_key("again.csv", content_sha256(path))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(REVIEWS.partitions.name, [key])
        instance.report_runless_asset_event(dg.AssetMaterialization(REVIEWS.key, partition=key))
        result = tick(zone, instance, tick(zone, instance, None).cursor)

    assert result.run_requests == []
    assert not path.exists()
    assert len(list((Path(zone.root) / "_archive" / "reviews").iterdir())) == 1


def test_the_cursor_holds_only_files_still_waiting(zone: LandingZone) -> None:
    archive = Path(zone.root) / "_archive" / "reviews"
    archive.mkdir(parents=True)
    for number in range(200):
        (archive / f"{number:012d}__old{number}.csv").write_text("text,rating\n")
    drop(zone, "fresh.csv", "text,rating\nnew,5\n")
    with dg.instance_for_test() as instance:
        result = tick(zone, instance, None)

    assert list(json.loads(result.cursor)) == ["fresh.csv"]
