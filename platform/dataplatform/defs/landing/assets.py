"""The `landing` group: each landed file becomes a Parquet partition plus its row rejects, and
a check that every row read from it landed or was rejected."""

from collections.abc import Iterator
from dataclasses import dataclass
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
from dataplatform.landing.formats import Conversion, LandingFileError, open_landed_file
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


ROWS_ACCOUNTED = "rows_accounted"


@dataclass
class LandedRows:
    """The rows written to the landed table so far."""

    count: int = 0


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
        check_specs=[
            dg.AssetCheckSpec(
                ROWS_ACCOUNTED,
                asset=dataset.key,
                description=(
                    "Every row read from the file landed or was rejected: rows read = rows landed"
                    " + rows rejected + rows of skipped sheets."
                ),
                blocking=True,
            )
        ],
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
        landed = LandedRows()
        yield dg.Output(
            StreamedTable(conversion.schema.append(LANDED_AT), stamped(batches, landed_at, landed)),
            output_name="table",
            metadata={
                "source_file": name,
                "landed_at": landed_at.isoformat(),
                "sha256": sha256,
                "format": conversion.format,
                "encoding": conversion.encoding or "binary",
                "sheets": ", ".join(conversion.sheets) or "-",
                "compression": conversion.compression or "none",
                "type_warnings": "\n".join(conversion.warnings) or "none",
            },
        )
        # The table is written by now (outputs are handled as they are yielded), so the
        # rejects are complete and the original can go to the archive.
        archived = landing.archive(dataset.name, name, sha256)
        accounting = RowAccounting.of(conversion, landed)
        yield dg.Output(
            pa.Table.from_pylist(conversion.rejects, schema=REJECTS_SCHEMA),
            output_name="rejects",
            metadata={**accounting.metadata(), "archived_to": str(archived)},
        )
        yield rows_accounted(accounting)

    return land


@dataclass(frozen=True)
class RowAccounting:
    """Where the rows read from a landed file went."""

    read: int
    landed: int
    rejected: int
    skipped_sheets: dict[str, int]

    @classmethod
    def of(cls, conversion: Conversion, landed: LandedRows) -> "RowAccounting":
        tally = conversion.tally
        return cls(tally.read, landed.count, len(conversion.rejects), tally.skipped_sheets)

    @property
    def unaccounted(self) -> int:
        return self.read - self.landed - self.rejected - sum(self.skipped_sheets.values())

    def metadata(self) -> dict[str, int | str]:
        sheets = ", ".join(f"{name} ({rows} rows)" for name, rows in self.skipped_sheets.items())
        return {
            "rows_read": self.read,
            "rows_landed": self.landed,
            "rejected_rows": self.rejected,
            "rows_in_skipped_sheets": sum(self.skipped_sheets.values()),
            "skipped_sheets": sheets or "none",
        }


def rows_accounted(accounting: RowAccounting) -> dg.AssetCheckResult:
    """Fails if a row read from the file was neither landed nor rejected (or counted twice)."""
    return dg.AssetCheckResult(
        check_name=ROWS_ACCOUNTED,
        passed=accounting.unaccounted == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={**accounting.metadata(), "rows_unaccounted": accounting.unaccounted},
    )


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


def stamped(
    batches: Iterator[pa.RecordBatch], landed_at: datetime, landed: LandedRows
) -> Iterator[pa.RecordBatch]:
    stamp = pa.scalar(landed_at, LANDED_AT.type)
    for batch in batches:
        landed.count += batch.num_rows
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
