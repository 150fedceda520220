"""The `landing` group: each landed file becomes a Parquet partition plus its row rejects."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pyarrow as pa

from dataplatform.landing.datasets import (
    FILE_TAG,
    LANDED,
    SHA256_TAG,
    TABULAR_DATASETS,
    LandingDataset,
)
from dataplatform.landing.formats import LandingFileError, open_landed_file
from dataplatform.landing.zone import LandingZone
from dataplatform.resources.parquet_io_manager import StreamedTable

REJECTS_SCHEMA = pa.schema(
    [
        ("_source_file", pa.string()),
        ("_sheet", pa.string()),
        ("_row_number", pa.int64()),
        ("_raw", pa.string()),
        ("_reject_reason", pa.string()),
    ]
)
# When the file arrived (its modification time): the day its rows join daily tables.
LANDED_AT = pa.field("_landed_at", pa.timestamp("us", tz="UTC"))


class LandedFileChanged(RuntimeError):
    """The file changed while it was converted; it is left in place to be picked up again."""


def build_landing_asset(dataset: LandingDataset) -> dg.AssetsDefinition:
    @dg.multi_asset(
        name=f"land_{dataset.name}",
        group_name="landing",
        partitions_def=dataset.partitions,
        outs={
            "table": dg.AssetOut(
                key=dataset.key, description=dataset.description, kinds={"parquet"}
            ),
            "rejects": dg.AssetOut(
                key=[LANDED, f"{dataset.name}_rejects"],
                description=f"Rows of landed {dataset.name} files that could not be parsed.",
                kinds={"parquet"},
            ),
        },
    )
    def land(context: dg.AssetExecutionContext, landing: LandingZone):
        name, sha256 = context.run.tags[FILE_TAG], context.run.tags[SHA256_TAG]
        path = landing.path_of(dataset.name, name)
        try:
            conversion = open_landed_file(path, source_name=name, contract=dataset.contract)
        except LandingFileError as error:
            raise quarantined(landing, dataset, name, sha256, error) from error
        landed_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        batches = guarded(conversion.batches, landing, dataset, name, sha256, path)
        yield dg.Output(
            StreamedTable(conversion.schema.append(LANDED_AT), stamped(batches, landed_at)),
            output_name="table",
            metadata={
                "source_file": name,
                "landed_at": landed_at.isoformat(),
                "sha256": sha256,
                "format": conversion.format,
                "encoding": conversion.encoding or "binary",
                "sheets": ", ".join(conversion.sheets) or "-",
            },
        )
        # The table is written by now (outputs are handled as they are yielded), so the
        # rejects are complete and the original can go to the archive.
        archived = landing.archive(dataset.name, name, sha256)
        yield dg.Output(
            pa.Table.from_pylist(conversion.rejects, schema=REJECTS_SCHEMA),
            output_name="rejects",
            metadata={"rejected_rows": len(conversion.rejects), "archived_to": str(archived)},
        )

    return land


def guarded(
    batches: Iterator[pa.RecordBatch],
    landing: LandingZone,
    dataset: LandingDataset,
    name: str,
    sha256: str,
    path: Path,
) -> Iterator[pa.RecordBatch]:
    """The batches, quarantining the file if it turns out unreadable midway, and refusing
    to complete if it changed while being read (so a half-copied file is never committed)."""
    before = path.stat()
    try:
        yield from batches
    except LandingFileError as error:
        raise quarantined(landing, dataset, name, sha256, error) from error
    after = path.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise LandedFileChanged(
            f"{dataset.name}/{name} changed while it was converted; nothing was written and it"
            " will be converted again once it is stable"
        )


def stamped(batches: Iterator[pa.RecordBatch], landed_at: datetime) -> Iterator[pa.RecordBatch]:
    stamp = pa.scalar(landed_at, LANDED_AT.type)
    for batch in batches:
        yield batch.append_column(LANDED_AT, pa.repeat(stamp, batch.num_rows))


def quarantined(
    landing: LandingZone, dataset: LandingDataset, name: str, sha256: str, error: LandingFileError
) -> dg.Failure:
    target = landing.quarantine(dataset.name, name, error.as_dict(), sha256)
    return dg.Failure(
        description=f"{dataset.name}/{name} could not be converted: {error}",
        metadata={
            **{k: v or "-" for k, v in error.as_dict().items()},
            "quarantined_to": str(target),
        },
        allow_retries=False,
    )


landing_assets = [build_landing_asset(dataset) for dataset in TABULAR_DATASETS]
