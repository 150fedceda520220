"""The labels people give a table's record pairs, kept as an asset the resolution reads.

Labels files are dropped into the landing zone's `labels/<spec name>/` folder (by hand, or
by `dataplatform entities review`). The day's labels asset reads them, and once its table is
written keeps them in `_archive/labels/<spec name>/<day>/`; a file that cannot be read is
moved to `_quarantine/labels/<spec name>/` next to the reason, and the other labels are kept
as before.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd

from dataplatform.entities.label_files import (
    LabelsFileError,
    merge_labels,
    read_labels_file,
    read_labels_files,
)
from dataplatform.entities.spec import EntitySpec
from dataplatform.landing.zone import LandingZone, UnsafeLandingPath, content_sha256

LABELS_FILES_ACCEPTED = "labels_files_accepted"


def labels_dataset(spec: EntitySpec) -> str:
    """The landing-zone folder of the spec's labels files, `labels/<spec name>`."""
    return f"labels/{spec.name}"


@dataclass(frozen=True)
class WaitingLabels:
    """The labels files waiting in the landing zone: those read, and those refused."""

    accepted: dict[str, pd.DataFrame]
    rejected: list[LabelsFileError]


def build_labels_asset(
    spec: EntitySpec, key: dg.AssetKey, partitions_def: dg.TimeWindowPartitionsDefinition
) -> dg.AssetsDefinition:
    dataset = labels_dataset(spec)

    @dg.asset(
        key=key,
        group_name="entities",
        partitions_def=partitions_def,
        kinds={"parquet"},
        description=(
            f"Every label people gave pairs of {spec.name} records (left_id, right_id,"
            " is_match, labelled_at, labelled_by, source_file, kept_on), the latest verdict per"
            " pair: the labels files kept up to this day plus those waiting in"
            f" landing/{dataset}/, which are kept under this day (_archive/{dataset}/<day>/)"
            " once the table is written. The day's resolution reads this day's labels, so a"
            " label given before the run is used by it (the records of the pairs labelled"
            " since the last run are resolved afresh); the labels depend on no entity asset,"
            " so there is no cycle. Rerunning a day reads the same files again."
        ),
        check_specs=[
            dg.AssetCheckSpec(
                LABELS_FILES_ACCEPTED,
                asset=key,
                description=(
                    "Every waiting labels file could be read; a bad one is quarantined with the"
                    " file, row and value at fault, and the other labels are kept."
                ),
            )
        ],
    )
    def labels(
        context: dg.AssetExecutionContext, landing: LandingZone
    ) -> Iterator[dg.Output | dg.AssetCheckResult]:
        day = context.partition_key
        kept = read_labels_files(kept_labels_files(landing, dataset, day))
        waiting = read_waiting_labels(landing, dataset, day)
        for error in waiting.rejected:
            context.log.warning(f"labels file quarantined: {error}")
        table = merge_labels(kept, *waiting.accepted.values())
        yield dg.Output(table, metadata=labels_metadata(table, waiting))
        # Written by now (outputs are handled as they are yielded): keep the files.
        for name in waiting.accepted:
            path = landing.dataset_dir(dataset) / name
            landing.archive(dataset, name, content_sha256(path), under=day)
        yield files_accepted(waiting.rejected)

    return labels


def kept_labels_files(landing: LandingZone, dataset: str, day: str) -> list[tuple[Path, str]]:
    """The files kept by the labels of `day` and earlier days, oldest day first, each with
    the day it was kept."""
    archive = landing.archive_dir(dataset)
    if not archive.is_dir():
        return []
    days = sorted(folder for folder in archive.iterdir() if folder.is_dir() and folder.name <= day)
    return [
        (path, folder.name)
        for folder in days
        for path in sorted(folder.iterdir())
        if path.is_file()
    ]


def read_waiting_labels(landing: LandingZone, dataset: str, day: str) -> WaitingLabels:
    """Read each waiting file whole (to be kept on `day`); quarantine those that cannot be
    read."""
    files, refused = landing.arrivals(dataset)
    accepted, rejected = {}, []
    for name in refused:
        rejected.append(quarantine(landing, dataset, LabelsFileError(name, "symlink refused")))
    for file in files:
        try:
            path = landing.path_of(dataset, file.name)
            accepted[file.name] = read_labels_file(path, kept_on=day)
        except UnsafeLandingPath as error:
            rejected.append(quarantine(landing, dataset, LabelsFileError(file.name, str(error))))
        except LabelsFileError as error:
            rejected.append(quarantine(landing, dataset, error))
    return WaitingLabels(accepted, rejected)


def quarantine(landing: LandingZone, dataset: str, error: LabelsFileError) -> LabelsFileError:
    landing.quarantine(dataset, error.file, error.as_dict())
    return error


def labels_metadata(table: pd.DataFrame, waiting: WaitingLabels) -> dict[str, int | str]:
    matches = int(table["is_match"].sum())
    return {
        "labels": len(table),
        "labelled_matches": matches,
        "labelled_non_matches": len(table) - matches,
        "files_kept_now": ", ".join(waiting.accepted) or "none",
        "files_quarantined": len(waiting.rejected),
    }


def files_accepted(rejected: list[LabelsFileError]) -> dg.AssetCheckResult:
    rows = "\n".join(
        f"| {e.file} | {e.row or '-'} | {e.value or '-'} | {e.reason} |" for e in rejected
    )
    return dg.AssetCheckResult(
        check_name=LABELS_FILES_ACCEPTED,
        passed=not rejected,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "files_quarantined": len(rejected),
            "errors": dg.MetadataValue.md(
                f"| file | row | value | reason |\n|---|---|---|---|\n{rows}"
            ),
        },
    )
