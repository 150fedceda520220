"""The `dataplatform` command: a full day end to end, exit codes, and replaying the spool."""

from pathlib import Path

import pytest
from datahub.lite.lite_util import get_datahub_lite

from dataplatform.cli import main
from dataplatform.lineage.spool import Spool
from platform_tests.demo_data import DAY
from platform_tests.lineage_samples import sample_mcps


@pytest.fixture
def local_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATAPLATFORM_API_URL", raising=False)
    return tmp_path / "data"


def test_run_materialises_the_day_and_records_the_run_in_the_catalog(local_platform: Path) -> None:
    assert main(["run", "--partition", DAY, "--listens-per-day", "1500"]) == 0

    assert (local_platform / "cleaned" / "listens" / f"{DAY}.parquet").exists()
    lite = get_datahub_lite(
        {
            "type": "sqlite",
            "config": {"file": str(local_platform / "catalog" / "datahub_lite.sqlite")},
        },
        read_only=True,
    )
    runs = [urn for urn in lite.list_ids() if urn.startswith("urn:li:dataProcessInstance:")]
    lite.close()
    assert len(runs) == 1


def test_run_exits_non_zero_when_the_source_is_unreachable(
    local_platform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAPLATFORM_API_URL", "http://127.0.0.1:9")

    assert main(["run", "--partition", DAY]) == 1


def test_replay_lineage_sends_the_spool(
    local_platform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAPLATFORM_DATAHUB_SINK", "file")
    spool = Spool(local_platform / "catalog" / "spool")
    spool.append(sample_mcps("spooled"))

    assert main(["replay-lineage"]) == 0
    assert spool.pending() == []
    assert "spooled" in (local_platform / "catalog" / "mcps.json").read_text()
