"""The corpus of awkward files, dropped together and driven through the real landing sensor and
landing asset: every file is converted (its bad rows rejected one by one), quarantined with a
reason, or archived as a copy of another, and no row read goes unaccounted for."""

import json
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from dataplatform.defs.landing.assets import landing_assets
from dataplatform.defs.landing.sensors import landing_sensors
from dataplatform.landing.datasets import EXPORTS
from dataplatform.landing.zone import LandingZone
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from platform_tests.events import check_results, materialization_metadata
from platform_tests.landing.corpus import Duplicate, Landed, Quarantined, corpus
from platform_tests.landing.test_sensors import tick

[land_exports] = [asset for asset in landing_assets if EXPORTS.key in asset.keys]
[exports_sensor] = [sensor for sensor in landing_sensors if sensor.name == "landing_exports_sensor"]


def test_every_file_of_the_corpus_is_converted_rejected_row_by_row_or_quarantined(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    zone = LandingZone(root=str(tmp_path / "landing"))
    zone.dataset_dir("exports").mkdir(parents=True)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    files = corpus(scratch)
    for file in files:
        (zone.dataset_dir("exports") / file.name).write_bytes(file.content())
    resources = {"landing": zone, "io_manager": ParquetIOManager(base_path=str(tmp_path / "data"))}

    with dg.instance_for_test() as instance:
        first = tick(zone, instance, None, exports_sensor)
        requested = tick(zone, instance, first.cursor, exports_sensor)
        results = {
            request.tags["landing/file"]: dg.materialize(
                [land_exports],
                partition_key=request.partition_key,
                tags=request.tags,
                instance=instance,
                resources=resources,
                raise_on_error=False,
            )
            for request in requested.run_requests
        }
        capfd.readouterr()
        last = tick(zone, instance, requested.cursor, exports_sensor)
        logged = capfd.readouterr().err
        partitions = set(instance.get_dynamic_partitions(EXPORTS.partitions.name))

    assert len(files) >= 30
    assert not list(zone.dataset_dir("exports").iterdir())  # nothing left waiting
    assert last.run_requests == [] and json.loads(last.cursor) == {"files": {}, "unsettled": {}}
    quarantine = Path(zone.root) / "_quarantine" / "exports"
    unaccounted = 0
    for file in files:
        match file.outcome:
            case Landed():
                unaccounted += check_landed(file.name, file.outcome, results[file.name], tmp_path)
            case Quarantined(reason=reason):
                assert not results[file.name].success, file.name
                [error] = quarantine.glob(f"*__{file.name}.error.json")
                assert json.loads(error.read_text())["reason"].startswith(reason), file.name
            case Duplicate(of=earlier):
                assert file.name not in results
                assert f"exports/{file.name}: same bytes as {earlier}" in logged
    assert unaccounted == 0
    landed = {r.dagster_run.tags["landing/file"] for r in results.values() if r.success}
    assert landed == {file.name for file in files if isinstance(file.outcome, Landed)}
    assert len(partitions) == len(landed)  # no partition without its materialisation


def check_landed(name: str, expected: Landed, result: dg.ExecuteInProcessResult, data: Path) -> int:
    """Asserts what landed and was rejected; returns the rows the file left unaccounted for."""
    assert result.success, name
    key = result.dagster_run.tags["dagster/partition"]
    table = pq.read_table(data / "data" / "landed" / "exports" / f"{key}.parquet")
    rejects = pq.read_table(data / "data" / "landed" / "exports_rejects" / f"{key}.parquet")
    assert (table.num_rows, rejects.num_rows) == (expected.rows, expected.rejected), name
    for column, values in expected.values.items():
        assert table.column(column).to_pylist() == values, name
    assert check_results(result)[("exports", "rows_accounted")] is True, name
    accounting = materialization_metadata(result, "landed", "exports_rejects")
    assert accounting["rows_read"].value == expected.rows + expected.rejected, name
    return (
        accounting["rows_read"].value
        - accounting["rows_landed"].value
        - accounting["rejected_rows"].value
        - accounting["rows_in_skipped_sheets"].value
    )
