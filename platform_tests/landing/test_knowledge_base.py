"""The documents sensor rebuilds the knowledge base when, and only when, documents change."""

import json
from pathlib import Path

import dagster as dg

from dataplatform.defs.landing.knowledge_base import (
    build_documents_sensor,
    documents_knowledge_base,
)
from dataplatform.landing.zone import LandingZone
from dataplatform.resources.parquet_io_manager import ParquetIOManager

sensor = build_documents_sensor("documents_job")


def tick(zone: LandingZone, cursor: str | None):
    return sensor(dg.build_sensor_context(cursor=cursor, resources={"landing": zone}))


def test_documents_become_a_jsonl_knowledge_base_refreshed_on_change(tmp_path: Path) -> None:
    zone = LandingZone(root=str(tmp_path / "landing"))
    assert isinstance(tick(zone, None), dg.SkipReason)
    docs = zone.dataset_dir("documents")
    (docs / "hr" / "policies").mkdir(parents=True)
    (docs / "hr" / "policies" / "leave.md").write_text("# Leave policy\n\nTake your days.\n")
    (docs / "notes.txt").write_text("plain notes")

    first = tick(zone, None)
    assert len(first.run_requests) == 1
    assert isinstance(tick(zone, first.cursor), dg.SkipReason)

    result = dg.materialize(
        [documents_knowledge_base],
        resources={
            "landing": zone,
            "io_manager": ParquetIOManager(base_path=str(tmp_path / "data")),
        },
    )
    assert result.success
    lines = zone.knowledge_base_path().read_text().splitlines()
    records = {record["path"]: record for record in map(json.loads, lines)}
    assert records["hr/policies/leave.md"]["folders"] == ["hr", "policies"]
    assert records["hr/policies/leave.md"]["title"] == "Leave policy"
    assert records["notes.txt"]["text"] == "plain notes"

    (docs / "notes.txt").unlink()
    assert len(tick(zone, first.cursor).run_requests) == 1
