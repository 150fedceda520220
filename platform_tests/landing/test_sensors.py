"""File-arrival sensor: stability wait, requests per content, the same bytes under any name, retries
of failed runs, refusals, a small cursor and no partition left without a materialisation."""

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from dataplatform.defs.landing.assets import build_landing_asset
from dataplatform.defs.landing.sensors import Retries, build_landing_sensor
from dataplatform.landing.datasets import EXPORTS, FILE_TAG, REVIEWS, SHA256_TAG, partition_key
from dataplatform.landing.runs import REQUEST_TAG
from dataplatform.landing.zone import LandingZone, content_sha256
from dataplatform.resources.parquet_io_manager import ParquetIOManager

sensor = build_landing_sensor(REVIEWS, "land_reviews_job")
NO_WAIT = Retries(attempts=3, first_delay_seconds=0)


@pytest.fixture
def zone(tmp_path: Path) -> LandingZone:
    for dataset in ("reviews", "exports"):
        (tmp_path / "landing" / dataset).mkdir(parents=True)
    return LandingZone(root=str(tmp_path / "landing"))


def drop(zone: LandingZone, name: str, content: str, dataset: str = "reviews") -> Path:
    path = zone.dataset_dir(dataset) / name
    path.write_text(content)
    return path


def tick(
    zone: LandingZone,
    instance: dg.DagsterInstance,
    cursor: str | None,
    evaluate: dg.SensorDefinition = sensor,
) -> dg.SensorResult:
    """One evaluation, applying its partition changes as the daemon would."""
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing": zone})
    result = evaluate(context)
    assert isinstance(result, dg.SensorResult)
    for change in result.dynamic_partitions_requests or []:
        if isinstance(change, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(change.partitions_def_name, change.partition_keys)
        else:
            for key in change.partition_keys:
                instance.delete_dynamic_partition(change.partitions_def_name, key)
    return result


def test_a_file_is_requested_once_it_is_stable_with_its_content_hash(zone: LandingZone) -> None:
    path = drop(zone, "new reviews.csv", "text,rating\nlovely,5\n")
    sha = content_sha256(path)
    with dg.instance_for_test() as instance:
        first = tick(zone, instance, None)
        second = tick(zone, instance, first.cursor)
        third = tick(zone, instance, second.cursor)

    assert first.run_requests == []
    [request] = second.run_requests
    assert request.run_key is not None and request.run_key.startswith(f"reviews:{sha}:")
    assert request.partition_key == partition_key("new reviews.csv", sha)
    assert request.tags[FILE_TAG] == "new reviews.csv" and request.tags[SHA256_TAG] == sha
    assert request.tags[REQUEST_TAG] == request.run_key
    [add] = second.dynamic_partitions_requests
    assert list(add.partition_keys) == [request.partition_key]
    assert third.run_requests == [] and third.dynamic_partitions_requests == []
    [(name, followed)] = json.loads(third.cursor)["files"].items()
    assert name == "new reviews.csv" and followed["sha256"] == sha and followed["attempt"] == 1


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
        requested = tick(zone, instance, tick(zone, instance, None).cursor)
        path.write_text("text,rating\nbetter,4\n")
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
        cursor = tick(zone, instance, requested.cursor).cursor
        changed = tick(zone, instance, cursor)

    [request] = changed.run_requests
    assert request.tags[SHA256_TAG] == content_sha256(path)
    assert request.run_key != requested.run_requests[0].run_key


def test_temporary_and_hidden_files_are_left_alone(zone: LandingZone) -> None:
    for name in (".hidden.csv", "upload.csv.part", "copy.tmp", "~$sheet.xlsx"):
        drop(zone, name, "text,rating\n")
    with dg.instance_for_test() as instance:
        result = tick(zone, instance, tick(zone, instance, None).cursor)

    assert result.run_requests == []
    assert json.loads(result.cursor) == {"files": {}, "unsettled": {}}


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


def test_the_cursor_holds_only_files_still_waiting(zone: LandingZone) -> None:
    archive = Path(zone.root) / "_archive" / "reviews"
    archive.mkdir(parents=True)
    for number in range(200):
        (archive / f"{number:012d}__old{number}.csv").write_text("text,rating\n")
    drop(zone, "fresh.csv", "text,rating\nnew,5\n")
    with dg.instance_for_test() as instance:
        result = tick(zone, instance, None)

    assert list(json.loads(result.cursor)["files"]) == ["fresh.csv"]


land_exports = build_landing_asset(EXPORTS)
exports_sensor = build_landing_sensor(EXPORTS, "land_exports_job", NO_WAIT)


def land(
    request: dg.RunRequest, zone: LandingZone, instance: dg.DagsterInstance, data: Path
) -> dg.ExecuteInProcessResult:
    """Run the request as the daemon would: the real landing asset, tagged as requested."""
    return dg.materialize(
        [land_exports],
        partition_key=request.partition_key,
        tags=request.tags,
        instance=instance,
        resources={"landing": zone, "io_manager": ParquetIOManager(base_path=str(data))},
        raise_on_error=False,
    )


def test_the_same_bytes_under_other_names_are_archived_naming_the_earlier_file(
    zone: LandingZone, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    content = "order,amount\n1,9.5\n2,3.0\n"
    drop(zone, "orders.csv", content, "exports")
    drop(zone, "orders_copy.csv", content, "exports")
    with dg.instance_for_test() as instance:
        requested = tick(
            zone, instance, tick(zone, instance, None, exports_sensor).cursor, exports_sensor
        )
        [request] = requested.run_requests  # one run for both: the copy waits for it
        assert land(request, zone, instance, tmp_path / "data").success
        capfd.readouterr()
        after = tick(zone, instance, requested.cursor, exports_sensor)
        drop(zone, "orders again.csv", content, "exports")
        later = tick(
            zone,
            instance,
            tick(zone, instance, after.cursor, exports_sensor).cursor,
            exports_sensor,
        )
        partitions = instance.get_dynamic_partitions(EXPORTS.partitions.name)

    assert after.run_requests == [] and later.run_requests == []
    assert not list(zone.dataset_dir("exports").iterdir())
    assert len(list((Path(zone.root) / "_archive" / "exports").iterdir())) == 3
    logged = capfd.readouterr().err.splitlines()  # the sensor's log goes to the console
    duplicates = [line for line in logged if "same bytes as" in line]
    assert len(duplicates) == 2
    assert all("same bytes as orders.csv" in line for line in duplicates)
    assert partitions == [request.partition_key]


@dg.op
def disk_full() -> None:
    raise OSError("No space left on device")


failing_job = dg.GraphDefinition(name="failing", node_defs=[disk_full]).to_job()


def test_a_run_failing_for_another_reason_is_retried_then_quarantined_with_the_reason(
    zone: LandingZone,
) -> None:
    drop(zone, "orders.csv", "order\n1\n", "exports")
    requests = []
    with dg.instance_for_test() as instance:
        cursor = tick(zone, instance, None, exports_sensor).cursor
        for _ in range(NO_WAIT.attempts):
            result = tick(zone, instance, cursor, exports_sensor)
            [request] = result.run_requests
            requests.append(request)
            failing_job.execute_in_process(
                instance=instance, tags=request.tags, raise_on_error=False
            )
            cursor = result.cursor
        last = tick(zone, instance, cursor, exports_sensor)
        partitions = instance.get_dynamic_partitions(EXPORTS.partitions.name)

    assert len({r.run_key for r in requests}) == 3
    assert {r.partition_key for r in requests} == {requests[0].partition_key}
    assert last.run_requests == []
    assert json.loads(last.cursor) == {"files": {}, "unsettled": {}}
    [error_file] = (Path(zone.root) / "_quarantine" / "exports").glob("*.error.json")
    error = json.loads(error_file.read_text())
    assert (
        error["reason"].startswith("3 runs failed") and "No space left on device" in error["reason"]
    )
    assert partitions == []  # the partition no run materialised is gone


def test_a_failed_run_is_retried_only_after_its_delay(zone: LandingZone) -> None:
    patient = build_landing_sensor(EXPORTS, "land_exports_job", Retries(first_delay_seconds=3600))
    drop(zone, "orders.csv", "order\n1\n", "exports")
    with dg.instance_for_test() as instance:
        requested = tick(zone, instance, tick(zone, instance, None, patient).cursor, patient)
        [request] = requested.run_requests
        failing_job.execute_in_process(instance=instance, tags=request.tags, raise_on_error=False)
        waiting = tick(zone, instance, requested.cursor, patient)

    assert waiting.run_requests == []
    assert json.loads(waiting.cursor)["files"]["orders.csv"]["retry_at"] is not None
    assert (zone.dataset_dir("exports") / "orders.csv").exists()


def test_a_quarantined_file_leaves_no_partition_behind(zone: LandingZone, tmp_path: Path) -> None:
    drop(zone, "empty.csv", "", "exports")
    with dg.instance_for_test() as instance:
        requested = tick(
            zone, instance, tick(zone, instance, None, exports_sensor).cursor, exports_sensor
        )
        [request] = requested.run_requests
        assert not land(request, zone, instance, tmp_path / "data").success
        after = tick(zone, instance, requested.cursor, exports_sensor)
        partitions = instance.get_dynamic_partitions(EXPORTS.partitions.name)

    assert partitions == []
    assert json.loads(after.cursor) == {"files": {}, "unsettled": {}}
    assert list((Path(zone.root) / "_quarantine" / "exports").glob("*empty.csv.error.json"))
    assert not (tmp_path / "data" / "landed" / "exports").exists()
