"""The documents knowledge base: a JSONL of every document under landing/documents/."""

import hashlib
import json
import os
from dataclasses import asdict

import dagster as dg
import pyarrow as pa

from dataplatform.defs.landing.sensors import SENSOR_INTERVAL_SECONDS
from dataplatform.landing.documents import build_knowledge_base, scan_documents
from dataplatform.landing.zone import LandingZone

DOCUMENTS = "documents"
DOCUMENTS_JOB = "documents_job"
KNOWLEDGE_BASE = dg.AssetKey(["landed", "documents_knowledge_base"])


@dg.asset(
    key=KNOWLEDGE_BASE,
    group_name="landing",
    kinds={"jsonl", "parquet"},
    description=(
        "One record per text, markdown or PDF document under landing/documents/: its text,"
        " title and folder path. Also written as JSONL (see the `jsonl` metadata)."
    ),
)
def documents_knowledge_base(context: dg.AssetExecutionContext, landing: LandingZone) -> pa.Table:
    knowledge_base = build_knowledge_base(landing.dataset_dir(DOCUMENTS))
    jsonl = landing.knowledge_base_path()
    temporary = jsonl.with_name(f".{jsonl.name}.tmp")
    temporary.write_bytes(knowledge_base.to_jsonl())
    os.replace(temporary, jsonl)
    failures = "\n".join(f"| {f.path} | {f.reason} |" for f in knowledge_base.failures)
    context.add_output_metadata(
        {
            "documents": len(knowledge_base.records),
            "failed_documents": len(knowledge_base.failures),
            "failures": dg.MetadataValue.md(f"| document | reason |\n|---|---|\n{failures}"),
            "jsonl": dg.MetadataValue.path(str(jsonl)),
            "fingerprint": knowledge_base.fingerprint(),
        }
    )
    records = [asdict(record) for record in knowledge_base.records]
    return pa.Table.from_pylist(records) if records else pa.table({"id": pa.array([], pa.string())})


def build_documents_sensor(job_name: str) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_documents_sensor",
        job_name=job_name,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Rebuilds the knowledge base when documents are added, changed or removed.",
    )
    def documents_sensor(context: dg.SensorEvaluationContext, landing: LandingZone):
        folder = landing.dataset_dir(DOCUMENTS)
        if not folder.is_dir():
            return dg.SkipReason(f"{folder} does not exist yet")
        listing = scan_documents(folder)
        fingerprint = hashlib.sha256(json.dumps(sorted(listing)).encode()).hexdigest()
        if fingerprint == context.cursor:
            return dg.SkipReason("no document added, changed or removed")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=f"documents:{fingerprint}")], cursor=fingerprint
        )

    return documents_sensor


documents_sensor = build_documents_sensor(DOCUMENTS_JOB)
