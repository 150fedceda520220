"""End to end: drop a file, tick the sensor, run the requested run, find everything in place."""

import json
import os
from datetime import datetime
from pathlib import Path

import dagster as dg
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datahub.lite.lite_util import get_datahub_lite

from dataplatform import definitions
from dataplatform.cleaning.tables import landed_reviews_as_reviews
from dataplatform.defs.landing.assets import (
    LandedFileChanged,
    RowAccounting,
    guarded,
    rows_accounted,
)
from dataplatform.defs.resources import datahub_sink, platform_resources, source_api
from dataplatform.demo_api import DemoApiServer
from dataplatform.landing.datasets import EXPORTS
from dataplatform.landing.zone import LandingZone
from dataplatform.settings import PlatformSettings
from platform_tests.demo_data import DAY
from platform_tests.events import check_results, materialization_metadata


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(tmp_path))
    resources = platform_resources(PlatformSettings.from_environment())
    resources["landing"].dataset_dir("reviews").mkdir(parents=True)
    return resources


def sensor_requests(resources: dict, instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    sensor = definitions.defs().resolve_sensor_def("landing_reviews_sensor")
    landing = {"landing": resources["landing"]}
    first = sensor(dg.build_sensor_context(instance=instance, resources=landing))
    second = sensor(
        dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=landing)
    )
    for request in second.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    return second.run_requests


def run(request: dg.RunRequest, resources: dict, instance: dg.DagsterInstance):
    job = definitions.defs().resolve_job_def("land_reviews_job")
    return job.execute_in_process(
        partition_key=request.partition_key,
        tags=request.tags,
        instance=instance,
        resources=resources,
        raise_on_error=False,
    )


def test_dropped_reviews_become_parquet_cleaned_archived_and_catalogued(
    platform: dict, tmp_path: Path
) -> None:
    landing = platform["landing"]
    (landing.dataset_dir("reviews") / "Fresh Reviews é.csv").write_text(
        "Text,Rating\nloved it,5\nawful,1\nnot a number,five\n", encoding="utf-8"
    )
    with dg.instance_for_test() as instance:
        [request] = sensor_requests(platform, instance)
        result = run(request, platform, instance)

    assert result.success
    key = request.partition_key
    landed = pq.read_table(tmp_path / "landed" / "reviews" / f"{key}.parquet")
    assert landed.column("text").to_pylist()[:2] == ["loved it", "awful"]
    assert set(landed.column_names) >= {"text", "rating", "_source_file", "_row_number"}
    cleaned = pq.read_table(tmp_path / "cleaned" / "landed_reviews" / f"{key}.parquet")
    assert sorted(cleaned.column("rating").to_pylist()) == [1, 5]
    cleaned_rejects = pq.read_table(
        tmp_path / "cleaned" / "landed_reviews_rejects" / f"{key}.parquet"
    )
    assert (
        cleaned_rejects.num_rows
        + pq.read_table(tmp_path / "landed" / "reviews_rejects" / f"{key}.parquet").num_rows
        == 1
    )
    assert not list(landing.dataset_dir("reviews").iterdir())
    [archived] = (Path(landing.root) / "_archive" / "reviews").iterdir()
    assert archived.name.endswith("Fresh Reviews é.csv")
    metadata = materialization_metadata(result, "landed", "reviews")
    assert metadata["format"].value == "csv" and metadata["datahub/delivery"].value == "sent"
    lite = get_datahub_lite(
        {"type": "sqlite", "config": {"file": str(tmp_path / "catalog" / "datahub_lite.sqlite")}},
        read_only=True,
    )
    naming = datahub_sink(PlatformSettings.from_environment()).naming
    cleaned_entity = lite.get(naming.dataset_urn(dg.AssetKey(["cleaned", "landed_reviews"])), None)
    lite.close()
    upstreams = [u["dataset"] for u in cleaned_entity["upstreamLineage"]["upstreams"]]
    assert upstreams == [naming.dataset_urn(dg.AssetKey(["landed", "reviews"]))]


def test_landed_reviews_join_the_cleaned_reviews_of_the_day_they_arrived(
    platform: dict, tmp_path: Path, demo_api: DemoApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped = platform["landing"].dataset_dir("reviews") / "labelled.csv"
    dropped.write_text("text,rating\ngreat song,5\nboring,2\n", encoding="utf-8")
    arrival = datetime.fromisoformat(f"{DAY}T09:30:00+00:00").timestamp()
    os.utime(dropped, (arrival, arrival))
    monkeypatch.setenv("DATAPLATFORM_API_URL", demo_api.url)
    resources = {**platform, "source_api": source_api(PlatformSettings.from_environment())}

    with dg.instance_for_test() as instance:
        [request] = sensor_requests(platform, instance)
        assert run(request, platform, instance).success
        for day in (DAY, "2026-03-05"):
            result = dg.materialize(
                definitions.defs().assets,
                selection=[
                    dg.AssetKey(["raw", "reviews"]),
                    dg.AssetKey(["cleaned", "reviews"]),
                    dg.AssetKey(["cleaned", "reviews_rejects"]),
                ],
                partition_key=day,
                instance=instance,
                resources=resources,
            )
            assert result.success

    on_arrival = pq.read_table(tmp_path / "cleaned" / "reviews" / f"{DAY}.parquet").to_pandas()
    landed = on_arrival[on_arrival["source"] == "landing"]
    assert sorted(landed["text"]) == ["boring", "great song"]
    assert sorted(landed["rating"]) == [2, 5]
    assert landed["user_id"].isna().all() and landed["review_id"].is_unique
    assert (on_arrival["source"] == "api").sum() > 0
    assert materialization_metadata(result, "cleaned", "reviews")["landed_rows"].value == 0
    next_day = pq.read_table(tmp_path / "cleaned" / "reviews" / "2026-03-05.parquet").to_pandas()
    assert (next_day["source"] == "api").all()


def test_an_unreadable_file_is_quarantined_with_its_reason_and_others_still_flow(
    platform: dict,
) -> None:
    landing = platform["landing"]
    (landing.dataset_dir("reviews") / "garbage.csv").write_bytes(bytes(range(256)) * 64)
    (landing.dataset_dir("reviews") / "good.csv").write_text("text,rating\nfine,4\n")
    with dg.instance_for_test() as instance:
        requests = sensor_requests(platform, instance)
        results = {r.tags["landing/file"]: run(r, platform, instance) for r in requests}

    assert not results["garbage.csv"].success and results["good.csv"].success
    quarantine = Path(landing.root) / "_quarantine" / "reviews"
    [error_file] = quarantine.glob("*garbage.csv.error.json")
    error = json.loads(error_file.read_text())
    assert error["reason"] and error["format"] == "csv"
    assert (quarantine / error_file.name.removesuffix(".error.json")).exists()
    assert not list(landing.dataset_dir("reviews").iterdir())


def test_a_file_modified_while_it_is_read_is_not_committed_nor_quarantined(tmp_path: Path) -> None:
    zone = LandingZone(root=str(tmp_path / "landing"))
    zone.dataset_dir("exports").mkdir(parents=True)
    path = zone.dataset_dir("exports") / "growing.csv"
    path.write_text("a\n1\n")

    def batches_while_someone_appends():
        yield pa.record_batch({"a": [1]})
        with path.open("a") as more:
            more.write("2\n")

    with pytest.raises(LandedFileChanged, match="changed while it was converted"):
        list(guarded(batches_while_someone_appends(), zone, EXPORTS, "growing.csv", "0" * 64, path))
    assert path.exists()
    assert not (Path(zone.root) / "_quarantine").exists()


def write_export(folder: Path, file_format: str) -> tuple[str, int]:
    """A small export in `file_format`; returns its file name and how many rows it holds."""
    rows = [
        {"Order Id": 1, "Amount": 9.5, "City": "Zürich"},
        {"Order Id": 2, "Amount": 3.0, "City": "Köln"},
    ]
    name = f"export.{file_format}"
    path = folder / name
    if file_format in ("csv", "tsv"):
        separator = "," if file_format == "csv" else "\t"
        lines = [separator.join(rows[0])] + [separator.join(map(str, r.values())) for r in rows]
        path.write_bytes("\n".join(lines).encode("latin-1"))
    elif file_format == "json":
        path.write_text(json.dumps(rows))
    elif file_format == "jsonl":
        path.write_text("\n".join(json.dumps(r) for r in rows))
    elif file_format == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    elif file_format == "xlsx":
        workbook = openpyxl.Workbook()
        for sheet, subset in (("north", rows[:1]), ("south", rows[1:])):
            worksheet = workbook.create_sheet(sheet)
            worksheet.append(list(rows[0]))
            for row in subset:
                worksheet.append(list(row.values()))
        del workbook["Sheet"]
        workbook.save(path)
    return name, len(rows)


@pytest.mark.parametrize("file_format", ["csv", "tsv", "json", "jsonl", "xlsx", "parquet"])
def test_every_format_lands_through_the_exports_asset(
    platform: dict, tmp_path: Path, file_format: str
) -> None:
    landing = platform["landing"]
    landing.dataset_dir("exports").mkdir(parents=True)
    name, rows = write_export(landing.dataset_dir("exports"), file_format)
    sensor = definitions.defs().resolve_sensor_def("landing_exports_sensor")
    resources = {"landing": landing}
    with dg.instance_for_test() as instance:
        first = sensor(dg.build_sensor_context(instance=instance, resources=resources))
        second = sensor(
            dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=resources)
        )
        [request] = second.run_requests
        instance.add_dynamic_partitions("landing_exports", [request.partition_key])
        result = (
            definitions.defs()
            .resolve_job_def("land_exports_job")
            .execute_in_process(
                partition_key=request.partition_key,
                tags=request.tags,
                instance=instance,
                resources=platform,
            )
        )

    assert result.success
    table = pq.read_table(tmp_path / "landed" / "exports" / f"{request.partition_key}.parquet")
    assert table.num_rows == rows
    assert table.column("city").to_pylist() == ["Zürich", "Köln"]
    assert table.column("_source_file").to_pylist() == [name] * rows
    if file_format == "xlsx":
        assert table.column("_sheet").to_pylist() == ["north", "south"]
    assert materialization_metadata(result, "landed", "exports")["format"].value == file_format
    assert check_results(result)[("exports", "rows_accounted")] is True
    accounting = materialization_metadata(result, "landed", "exports_rejects")
    assert (accounting["rows_read"].value, accounting["rows_landed"].value) == (rows, rows)


def test_the_row_accounting_check_fails_when_a_row_is_neither_landed_nor_rejected() -> None:
    lost_one = RowAccounting(read=10, landed=7, rejected=2, skipped_sheets={"Chart": 0})
    result = rows_accounted(lost_one)

    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert result.metadata["rows_unaccounted"].value == 1
    assert rows_accounted(RowAccounting(10, 8, 2, {})).passed


def test_every_sheet_of_a_reviews_workbook_is_cleaned_with_unique_review_ids(
    platform: dict, tmp_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    for sheet, texts in (("north", ["great", "fine"]), ("south", ["meh", "awful"])):
        worksheet = workbook.create_sheet(sheet)
        worksheet.append(["text", "rating"])
        for rating, text in enumerate(texts, start=2):
            worksheet.append([text, rating])
    del workbook["Sheet"]
    workbook.save(platform["landing"].dataset_dir("reviews") / "two sheets.xlsx")
    with dg.instance_for_test() as instance:
        [request] = sensor_requests(platform, instance)
        assert run(request, platform, instance).success

    key = request.partition_key
    cleaned = pq.read_table(tmp_path / "cleaned" / "landed_reviews" / f"{key}.parquet").to_pandas()
    rejects = pq.read_table(tmp_path / "cleaned" / "landed_reviews_rejects" / f"{key}.parquet")
    assert rejects.num_rows == 0
    assert sorted(cleaned["text"]) == ["awful", "fine", "great", "meh"]
    review_ids = landed_reviews_as_reviews(cleaned)["review_id"]
    assert review_ids.is_unique
    assert review_ids.str.contains(r"#(north|south):\d+$").all()
