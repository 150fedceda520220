"""The DataHub sink: delivery to a (stand-in) GMS, spooling and replay, strict mode, secrecy,
and the file, Lite and disabled sinks."""

import json
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
from datahub.emitter.mcp import MetadataChangeProposalWrapper as MCP
from datahub.lite.lite_util import get_datahub_lite

from dataplatform.catalog.metadata import FinishedRun, dataset_mcps, run_mcps
from dataplatform.catalog.sink import CatalogDeliveryError, DataHubSink, Delivery
from platform_tests.gms_stand_in import Fault, GmsStandIn
from platform_tests.written_tables import LISTENS, RAW_LISTENS, USERS, WRITTEN_AT, written_listens

TOKEN = "tok-7c1e9a52-s3cr3t-b0d4"
DATAHUB_CLI = Path(sys.executable).with_name("datahub")


@pytest.fixture
def gms() -> Iterator[GmsStandIn]:
    with GmsStandIn() as stand_in:
        yield stand_in


def rest_sink(gms: GmsStandIn, tmp_path: Path, **settings: object) -> DataHubSink:
    return DataHubSink(
        kind="rest",
        server=gms.url,
        token=TOKEN,
        spool_dir=str(tmp_path / "spool"),
        **{"timeout_seconds": 10.0, **settings},
    )


def table_mcps(sink: DataHubSink, name: str) -> list[MCP]:
    return dataset_mcps(written_listens(key=dg.AssetKey(["cleaned", name])), sink.naming)


def keys(mcps: list[MCP]) -> list[tuple[str, str]]:
    return [(mcp.entityUrn, mcp.aspectName) for mcp in mcps]


def received_keys(gms: GmsStandIn) -> list[tuple[str, str]]:
    return [(p["entityUrn"], p["aspectName"]) for p in gms.ingested()]


def spooled(sink: DataHubSink) -> list[list[MCP]]:
    return [[MCP.from_obj(o) for o in json.loads(p.read_text())] for p in sink.spool.pending()]


def finished_run(succeeded: bool) -> FinishedRun:
    return FinishedRun(
        run_id="run-0001",
        job_name="daily_refresh",
        succeeded=succeeded,
        started_at=WRITTEN_AT,
        ended_at=WRITTEN_AT + timedelta(seconds=90),
        outputs=(LISTENS,),
        message=None if succeeded else "boom",
    )


# -- REST ------------------------------------------------------------------------------------


def test_rest_sink_delivers_the_dataset_metadata_to_gms_with_the_token(
    gms: GmsStandIn, tmp_path: Path
) -> None:
    sink = rest_sink(gms, tmp_path)
    mcps = dataset_mcps(written_listens(), sink.naming)

    delivery = sink.emit(mcps)

    assert delivery == Delivery("sent", "rest")
    [request] = gms.requests
    assert (request.method, request.path, request.status) == (
        "POST",
        "/aspects?action=ingestProposalBatch",
        200,
    )
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["X-RestLi-Protocol-Version"] == "2.0.0"
    assert request.body["async"] == "false"
    assert received_keys(gms) == keys(mcps)

    urn = sink.naming.dataset_urn(LISTENS)
    aspects = gms.aspects(urn)
    assert aspects["datasetProperties"]["name"] == "cleaned.listens"
    assert aspects["datasetProperties"]["customProperties"]["row_count"] == "4"
    assert [f["fieldPath"] for f in aspects["schemaMetadata"]["fields"]] == [
        "listen_id",
        "user_id",
        "ms_played",
        "score",
        "played_at",
        "day",
        "skipped",
    ]
    assert [u["dataset"] for u in aspects["upstreamLineage"]["upstreams"]] == [
        sink.naming.dataset_urn(RAW_LISTENS),
        sink.naming.dataset_urn(USERS),
    ]
    assert gms.aspects(sink.naming.job_urn(LISTENS))["dataJobInputOutput"]["outputDatasets"] == [
        urn
    ]
    assert sink.spool.pending() == []


FAILURES = {
    Fault.ERROR: "Unable to emit metadata to DataHub GMS: stand-in GMS: internal server error",
    Fault.HANG: "Read timed out",
    Fault.DOWN: "Connection refused",
}


@pytest.mark.parametrize("fault", list(FAILURES))
def test_undelivered_metadata_is_spooled_and_replayed_exactly_once(
    gms: GmsStandIn, tmp_path: Path, fault: Fault
) -> None:
    failing = rest_sink(gms, tmp_path, timeout_seconds=0.5)
    mcps = table_mcps(failing, "listens")
    gms.fault = fault

    delivery = failing.emit(mcps)

    assert delivery.status == "spooled"
    assert "OperationalError" in delivery.detail
    assert FAILURES[fault] in delivery.detail
    [path] = failing.spool.pending()
    assert str(path) in delivery.detail
    [batch] = spooled(failing)
    assert keys(batch) == keys(mcps)
    assert [m.aspect for m in batch] == [m.aspect for m in mcps]
    assert gms.ingested() == []
    if fault is Fault.DOWN:
        assert gms.requests == []

    gms.fault = Fault.NONE
    healthy = rest_sink(gms, tmp_path)  # the same spool, a normal timeout

    assert healthy.replay() == 1
    assert received_keys(gms) == keys(mcps)
    assert healthy.spool.pending() == []
    assert healthy.replay() == 0

    later = table_mcps(healthy, "users")
    assert healthy.emit(later) == Delivery("sent", "rest")
    assert received_keys(gms) == keys(mcps) + keys(later)  # the spooled batch was not resent


def test_a_new_emit_first_replays_the_older_batches_in_order_exactly_once(
    gms: GmsStandIn, tmp_path: Path
) -> None:
    sink = rest_sink(gms, tmp_path)
    older = [table_mcps(sink, f"table_{n}") for n in range(3)]
    gms.fault = Fault.ERROR

    assert [sink.emit(batch).status for batch in older] == ["spooled"] * 3

    assert [keys(batch) for batch in spooled(sink)] == [keys(batch) for batch in older]
    # Each emit tried the oldest spooled batch first, so no newer batch ever went out first.
    attempted = [[p["entityUrn"] for p in r.proposals] for r in gms.requests]
    assert len(attempted) == 6  # 3 emits, each tried once and retried once by the emitter
    assert all(urns == [mcp.entityUrn for mcp in older[0]] for urns in attempted)
    with pytest.raises(CatalogDeliveryError, match="the unsent batches stay in"):
        sink.replay()
    assert len(sink.spool.pending()) == 3

    gms.fault = Fault.NONE
    gms.clear()
    newest = table_mcps(sink, "newest")

    assert sink.emit(newest) == Delivery("sent", "rest")

    assert received_keys(gms) == [key for batch in [*older, newest] for key in keys(batch)]
    assert len([r for r in gms.requests if r.is_ingest]) == 4  # one request per batch
    assert sink.spool.pending() == []


def test_strict_sink_raises_and_spools_nothing(gms: GmsStandIn, tmp_path: Path) -> None:
    sink = rest_sink(gms, tmp_path, strict=True)
    gms.fault = Fault.ERROR

    with pytest.raises(CatalogDeliveryError, match=r"DataHub rest sink failed: OperationalError"):
        sink.emit(table_mcps(sink, "listens"))

    assert sink.spool.pending() == []
    assert not (tmp_path / "spool").exists()


def test_the_token_never_appears_in_spool_details_errors_or_logs(
    gms: GmsStandIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A proxy in front of GMS that echoes the request's credentials in its error page.
    gms.error_message = f"upstream rejected the request (Authorization: Bearer {TOKEN})"
    gms.fault = Fault.ERROR
    sink = rest_sink(gms, tmp_path)
    strict = rest_sink(gms, tmp_path, strict=True)

    delivery = sink.emit(table_mcps(sink, "listens"))
    with pytest.raises(CatalogDeliveryError) as replayed:
        sink.replay()
    with pytest.raises(CatalogDeliveryError) as raised:
        strict.emit(table_mcps(sink, "users"))

    assert {r.headers["Authorization"] for r in gms.requests} == {f"Bearer {TOKEN}"}
    assert delivery.status == "spooled"
    assert "Bearer ***" in delivery.detail  # redacted, not merely absent
    assert "metadata spooled to" in caplog.text  # the sink's own warning was captured
    texts = {
        "delivery detail": delivery.detail,
        "replay error": "".join(traceback.format_exception(replayed.value)),
        "strict error": "".join(traceback.format_exception(raised.value)),
        "spool files": "".join(p.read_text() for p in (tmp_path / "spool").rglob("*.json")),
        "logs": caplog.text,
    }
    for where, text in texts.items():
        assert TOKEN not in text, where


# -- file, Lite and none ---------------------------------------------------------------------


def check_metadata_file(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DATAHUB_CLI), "check", "metadata-file", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATAHUB_TELEMETRY_ENABLED": "false"},
    )


def test_file_sink_collects_every_emit_in_one_file_that_datahub_accepts(tmp_path: Path) -> None:
    path = tmp_path / "catalog" / "mcps.json"
    sink = DataHubSink(kind="file", file_path=str(path), spool_dir=str(tmp_path / "spool"))
    batches = [
        dataset_mcps(written_listens(), sink.naming),
        table_mcps(sink, "users"),
        run_mcps(finished_run(succeeded=False), sink.naming),
    ]

    deliveries = [sink.emit(batch) for batch in batches]

    assert deliveries == [Delivery("sent", "file")] * 3
    written = json.loads(path.read_text())
    assert [MCP.from_obj(obj) for obj in written] == [mcp for batch in batches for mcp in batch]
    assert not list(path.parent.glob("*.tmp"))
    assert sink.spool.pending() == []

    checked = check_metadata_file(path)
    assert checked.returncode == 0, checked.stderr
    assert f"{len(written)} MCEs found - all valid" in checked.stdout

    # The check does catch a broken file: a schema field without its required path.
    schema = next(obj for obj in written if obj["aspectName"] == "schemaMetadata")
    fields = json.loads(schema["aspect"]["value"])
    del fields["fields"][0]["fieldPath"]
    schema["aspect"]["value"] = json.dumps(fields)
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text(json.dumps(written))
    rejected = check_metadata_file(corrupt)
    assert rejected.returncode != 0
    assert "missing required field: fieldPath" in rejected.stderr


def read_lite(path: Path, urn: str) -> dict:
    lite = get_datahub_lite({"type": "sqlite", "config": {"file": str(path)}}, read_only=True)
    try:
        return lite.get(urn, aspects=None)
    finally:
        lite.close()


def test_lite_sink_stores_schema_lineage_profile_ownership_and_tags(tmp_path: Path) -> None:
    lite_path = tmp_path / "catalog" / "datahub_lite.sqlite"
    sink = DataHubSink(kind="lite", lite_path=str(lite_path), spool_dir=str(tmp_path / "spool"))

    assert sink.emit(dataset_mcps(written_listens(), sink.naming)) == Delivery("sent", "lite")

    naming = sink.naming
    urn = naming.dataset_urn(LISTENS)
    entity = read_lite(lite_path, urn)
    fields = {
        f["fieldPath"]: (next(iter(f["type"]["type"])).rsplit(".", 1)[1], f["nullable"])
        for f in entity["schemaMetadata"]["fields"]
    }
    assert fields == {
        "listen_id": ("NumberType", False),
        "user_id": ("StringType", True),
        "ms_played": ("NumberType", True),
        "score": ("NumberType", True),
        "played_at": ("TimeType", True),
        "day": ("DateType", True),
        "skipped": ("BooleanType", True),
    }
    raw, users = naming.dataset_urn(RAW_LISTENS), naming.dataset_urn(USERS)
    lineage = entity["upstreamLineage"]
    assert [u["dataset"] for u in lineage["upstreams"]] == [raw, users]
    assert {
        field["downstreams"][0]: set(field["upstreams"]) for field in lineage["fineGrainedLineages"]
    } == {
        f"urn:li:schemaField:({urn},user_id)": {
            f"urn:li:schemaField:({raw},user)",
            f"urn:li:schemaField:({users},user_id)",
        },
        f"urn:li:schemaField:({urn},ms_played)": {f"urn:li:schemaField:({raw},ms)"},
    }
    profile = entity["datasetProfile"]
    assert profile["rowCount"] == 4
    columns = {
        p["fieldPath"]: (p["nullCount"], p.get("min"), p.get("max"))
        for p in profile["fieldProfiles"]
    }
    assert columns["listen_id"] == (0, "10", "13")
    assert columns["ms_played"] == (1, "250", "90000")
    assert columns["score"] == (1, "-1.25", "3.0")
    assert columns["user_id"] == (1, None, None)
    assert columns["day"] == (1, "2026-01-01", "2026-01-01")
    assert {o["owner"] for o in entity["ownership"]["owners"]} == {
        "urn:li:corpuser:ana@example.com",
        "urn:li:corpGroup:data-eng",
    }
    assert {t["tag"] for t in entity["globalTags"]["tags"]} == {
        "urn:li:tag:tier:gold",
        "urn:li:tag:pii",
    }
    job = read_lite(lite_path, naming.job_urn(LISTENS))
    assert job["dataJobInputOutput"]["outputDatasets"] == [urn]


def test_lite_sink_keeps_the_latest_write_of_a_table(tmp_path: Path) -> None:
    lite_path = tmp_path / "lite.sqlite"
    sink = DataHubSink(kind="lite", lite_path=str(lite_path), spool_dir=str(tmp_path / "spool"))
    first, second = written_listens(run_id="run-1"), written_listens(run_id="run-2")

    assert sink.emit(dataset_mcps(first, sink.naming)).status == "sent"
    assert sink.emit(dataset_mcps(second, sink.naming)).status == "sent"

    entity = read_lite(lite_path, sink.naming.dataset_urn(LISTENS))
    assert entity["datasetProperties"]["customProperties"]["run_id"] == "run-2"


def test_disabled_sink_writes_nothing_anywhere(gms: GmsStandIn, tmp_path: Path) -> None:
    target = tmp_path / "catalog"
    sink = DataHubSink(
        kind="none",
        server=gms.url,
        lite_path=str(target / "lite.sqlite"),
        file_path=str(target / "mcps.json"),
        spool_dir=str(target / "spool"),
    )

    delivery = sink.emit(dataset_mcps(written_listens(), sink.naming))

    assert delivery == Delivery("disabled")
    assert not target.exists()
    assert gms.requests == []


def test_disabling_the_sink_does_not_discard_metadata_spooled_earlier(
    gms: GmsStandIn, tmp_path: Path
) -> None:
    rest = rest_sink(gms, tmp_path)
    mcps = table_mcps(rest, "listens")
    gms.fault = Fault.DOWN
    assert rest.emit(mcps).status == "spooled"
    disabled = DataHubSink(kind="none", spool_dir=rest.spool_dir)

    assert disabled.replay() == 0

    assert [keys(batch) for batch in spooled(rest)] == [keys(mcps)]
    gms.fault = Fault.NONE
    assert rest.replay() == 1
    assert received_keys(gms) == keys(mcps)
