"""The replay job sends spooled metadata, oldest first, and empties the spool only on success."""

import json
from pathlib import Path

import dagster as dg
import pytest

from dataplatform.catalog.sink import DataHubSink
from dataplatform.catalog.spool import Spool
from dataplatform.defs.catalog.replay import replay_lineage
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from platform_tests.events import op_output_metadata
from platform_tests.gms_stand_in import GmsStandIn
from platform_tests.lineage_samples import sample_mcps


def test_replay_job_delivers_the_spool_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    first, second = sample_mcps("first"), sample_mcps("second")
    spool.append(first)
    spool.append(second)
    datahub = DataHubSink(
        kind="file", file_path=str(tmp_path / "mcps.json"), spool_dir=str(spool.directory)
    )

    result = replay_lineage.execute_in_process(resources={"datahub": datahub})

    assert (
        result.success and op_output_metadata(result, "replay_catalog_spool")["batches_sent"] == 2
    )
    delivered = [mcp["entityUrn"] for mcp in json.loads((tmp_path / "mcps.json").read_text())]
    assert delivered == [m.entityUrn for m in first] + [m.entityUrn for m in second]
    assert spool.pending() == []


def test_replay_job_fails_clearly_and_keeps_the_spool_when_datahub_is_down(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.append(sample_mcps("kept"))
    datahub = DataHubSink(kind="rest", server="http://127.0.0.1:9", spool_dir=str(spool.directory))

    result = replay_lineage.execute_in_process(resources={"datahub": datahub}, raise_on_error=False)

    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "the unsent batches stay in" in failure.step_failure_data.error.to_string()
    assert len(spool.pending()) == 1


def test_replay_job_delivers_to_a_gms_with_a_token_from_the_environment_and_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "tok-replay-job-5e2d-s3cr3t"
    monkeypatch.setenv("DATAPLATFORM_DATAHUB_TOKEN", token)
    spool = Spool(tmp_path / "spool")
    spool.append(sample_mcps("waiting"))
    with GmsStandIn() as gms, dg.instance_for_test() as instance:
        datahub = DataHubSink(
            kind="rest",
            server=gms.url,
            token=dg.EnvVar("DATAPLATFORM_DATAHUB_TOKEN"),
            spool_dir=str(spool.directory),
        )
        # The platform's IO manager, as in the code location: it stores tables, not counts.
        io_manager = ParquetIOManager(base_path=str(tmp_path / "data"))
        result = replay_lineage.execute_in_process(
            resources={"datahub": datahub, "io_manager": io_manager}, instance=instance
        )
        logged = "".join(str(entry) for entry in instance.all_logs(result.run_id))
        authorised = {r.headers.get("Authorization") for r in gms.requests if r.is_ingest}
        delivered = {proposal["entityUrn"] for proposal in gms.ingested()}

    assert result.success  # the count is metadata, not an output for the Parquet IO manager
    assert op_output_metadata(result, "replay_catalog_spool")["batches_sent"] == 1
    assert authorised == {f"Bearer {token}"}
    assert any("waiting" in urn for urn in delivered)
    assert spool.pending() == []
    assert token not in logged
