"""Raw extraction assets write the day's records, report what it took, and never leak the token."""

from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from dataplatform.defs.ingestion.assets import raw_assets
from dataplatform.demo_api import DemoApiConfig, DemoApiServer, FaultConfig
from dataplatform.demo_api.endpoints import ENDPOINTS
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from dataplatform.resources.source_api import SourceApiClient
from platform_tests.demo_data import DAY, SMALL
from platform_tests.events import materialization_metadata

TOKEN = "tok-9f8e7d6c5b4a"


def extract(
    api: DemoApiServer, data: Path, instance: dg.DagsterInstance, **settings
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        raw_assets,
        partition_key=DAY,
        instance=instance,
        raise_on_error=False,
        resources={
            "io_manager": ParquetIOManager(base_path=str(data)),
            "source_api": SourceApiClient(base_url=api.url, backoff_seconds=0.01, **settings),
        },
    )


def test_each_endpoint_lands_in_its_daily_partition_with_extraction_metadata(
    demo_api: DemoApiServer, tmp_path: Path
) -> None:
    with dg.instance_for_test() as instance:
        result = extract(demo_api, tmp_path, instance, page_size=250)

    assert result.success
    assert {key.to_user_string() for asset in raw_assets for key in asset.keys} == {
        f"raw/{endpoint.name}" for endpoint in ENDPOINTS
    }
    for endpoint in (endpoint.name for endpoint in ENDPOINTS):
        path = tmp_path / "raw" / endpoint / f"{DAY}.parquet"
        metadata = materialization_metadata(result, "raw", endpoint)
        assert pq.read_table(path).num_rows == metadata["dagster/row_count"].value > 0
        assert metadata["pages"].value == -(-metadata["dagster/row_count"].value // 250)
        assert metadata["bytes"].value > 0 and metadata["duration_seconds"].value > 0


def test_token_never_reaches_logs_or_the_event_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = DemoApiConfig(
        **{**SMALL.__dict__, "token": TOKEN, "faults": FaultConfig(fail_first_attempts=1)}
    )
    with DemoApiServer(config) as api, dg.instance_for_test() as instance:
        result = extract(api, tmp_path, instance, token=TOKEN)
        events = instance.all_logs(result.run_id)

    assert result.success
    assert any("retrying" in (event.user_message or "") for event in events)
    assert TOKEN not in caplog.text
    assert all(TOKEN not in str(event) for event in events)


def test_failed_extraction_writes_nothing_and_keeps_the_previous_version(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance, DemoApiServer(SMALL) as healthy:
        assert extract(healthy, tmp_path, instance).success
    path = tmp_path / "raw" / "tracks" / f"{DAY}.parquet"
    before = path.read_bytes()

    config = DemoApiConfig(**{**SMALL.__dict__, "faults": FaultConfig(error_rate=1.0)})
    with dg.instance_for_test() as instance, DemoApiServer(config) as broken:
        result = extract(broken, tmp_path, instance, max_attempts=2)

    assert not result.success
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
