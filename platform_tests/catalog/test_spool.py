"""The spool of undelivered metadata: order, atomic batches, replay that never skips or loses."""

import json
from pathlib import Path

import dagster as dg
import datahub.metadata.schema_classes as dh
import pytest
from datahub.emitter.mcp import MetadataChangeProposalWrapper as MCP

from dataplatform.catalog.metadata import FinishedRun, dataset_mcps, run_mcps
from dataplatform.catalog.naming import CatalogNaming
from dataplatform.catalog.spool import Spool
from platform_tests.written_tables import WRITTEN_AT, written_listens


def batch(number: int) -> list[MCP]:
    """A small batch that says which one it is."""
    urn = f"urn:li:dataset:(urn:li:dataPlatform:dagster,batch_{number},PROD)"
    return [
        MCP(entityUrn=urn, aspect=dh.StatusClass(removed=False)),
        MCP(entityUrn=urn, aspect=dh.DatasetPropertiesClass(name=f"batch {number}")),
    ]


def number_of(mcps: list[MCP]) -> int:
    return int(mcps[0].entityUrn.split("batch_")[1].split(",")[0])


def read_batch(path: Path) -> list[MCP]:
    return [MCP.from_obj(obj) for obj in json.loads(path.read_text())]


class Receiver:
    """A delivery target that records each batch, failing on the batches it is told to."""

    def __init__(self, spool: Spool, fail_on: frozenset[int] = frozenset()) -> None:
        self.spool = spool
        self.fail_on = fail_on
        self.received: list[int] = []
        self.pending_when_received: list[int] = []

    def __call__(self, mcps: list[MCP]) -> None:
        number = number_of(mcps)
        self.pending_when_received.append(len(self.spool.pending()))
        if number in self.fail_on:
            raise ConnectionError(f"batch {number} not accepted")
        self.received.append(number)


def test_batches_are_pending_in_the_order_they_were_appended(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")

    paths = [spool.append(batch(n)) for n in range(30)]

    assert spool.pending() == paths
    assert [number_of(read_batch(p)) for p in spool.pending()] == list(range(30))


def test_an_absent_spool_has_nothing_pending_and_is_not_created(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "never-written")

    assert spool.pending() == []
    assert not spool.directory.exists()


def test_a_batch_is_written_whole_and_leftovers_of_interrupted_writes_are_ignored(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path)
    (tmp_path / ".00000000000000000001-1-deadbeef.json.tmp").write_text("[{")  # a crash
    (tmp_path / "README.txt").write_text("not a batch")

    path = spool.append(batch(1))

    assert spool.pending() == [path]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == [
        ".00000000000000000001-1-deadbeef.json.tmp"
    ]
    receiver = Receiver(spool)
    assert spool.replay(receiver) == 1
    assert receiver.received == [1]


def test_replay_sends_oldest_first_and_deletes_each_batch_only_after_it_was_sent(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path)
    for n in range(4):
        spool.append(batch(n))
    receiver = Receiver(spool)

    sent = spool.replay(receiver)

    assert sent == 4
    assert receiver.received == [0, 1, 2, 3]
    # While a batch is being sent, it (and every later batch) is still in the spool.
    assert receiver.pending_when_received == [4, 3, 2, 1]
    assert spool.pending() == []
    assert spool.replay(receiver) == 0
    assert receiver.received == [0, 1, 2, 3]


def test_replay_stops_at_the_first_failure_and_keeps_that_batch_and_the_later_ones(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path)
    paths = [spool.append(batch(n)) for n in range(4)]
    failing = Receiver(spool, fail_on=frozenset({1}))

    with pytest.raises(ConnectionError, match="batch 1 not accepted"):
        spool.replay(failing)

    assert failing.received == [0]
    assert spool.pending() == paths[1:]  # nothing skipped: batch 3 did not overtake batch 1

    later = Receiver(spool)
    assert spool.replay(later) == 3
    assert later.received == [1, 2, 3]
    assert spool.pending() == []


def test_metadata_round_trips_through_the_spool_unchanged(tmp_path: Path) -> None:
    naming = CatalogNaming(platform="s3", env="DEV")
    run = FinishedRun(
        run_id="r-1",
        job_name="daily_refresh",
        succeeded=False,
        started_at=WRITTEN_AT,
        ended_at=WRITTEN_AT,
        outputs=(dg.AssetKey(["cleaned", "listens"]),),
        message="boom",
    )
    mcps = dataset_mcps(written_listens(), naming) + run_mcps(run, naming)
    spool = Spool(tmp_path)
    spool.append(mcps)
    received: list[list[MCP]] = []

    spool.replay(received.append)

    [replayed] = received
    assert replayed == mcps
    assert [type(m.aspect) for m in replayed] == [type(m.aspect) for m in mcps]
    lineage = next(m.aspect for m in replayed if m.aspectName == "upstreamLineage")
    assert isinstance(lineage.fineGrainedLineages[0], dh.FineGrainedLineageClass)
