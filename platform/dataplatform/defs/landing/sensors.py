"""File-arrival sensors: one per dataset, requesting one run per new or changed stable file.

One sensor per dataset (not one fanning out) so that each dataset has its own cursor, run
keys and on/off switch in the UI, and a flood of files in one folder never delays another.
The cursor holds only files currently waiting in the folder, so it stays small however many
files were processed before.
"""

import json
from dataclasses import dataclass

import dagster as dg

from dataplatform.landing.datasets import (
    FILE_TAG,
    SHA256_TAG,
    TABULAR_DATASETS,
    LandingDataset,
    landing_job_name,
    partition_key,
)
from dataplatform.landing.zone import LandedFile, LandingZone, content_sha256

SENSOR_INTERVAL_SECONDS = 15


@dataclass
class Sighting:
    size: int
    mtime_ns: int
    sha256: str | None = None  # set once the file was stable and a run was requested


def load_cursor(cursor: str | None) -> dict[str, Sighting]:
    return {name: Sighting(*values) for name, values in json.loads(cursor or "{}").items()}


def dump_cursor(sightings: dict[str, Sighting]) -> str:
    return json.dumps(
        {name: [s.size, s.mtime_ns, s.sha256] for name, s in sorted(sightings.items())}
    )


def build_landing_sensor(dataset: LandingDataset, job_name: str) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"landing_{dataset.name}_sensor",
        job_name=job_name,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Converts files dropped into landing/{dataset.name}/ to Parquet.",
    )
    def landing_sensor(
        context: dg.SensorEvaluationContext, landing: LandingZone
    ) -> dg.SensorResult:
        files, refused = landing.arrivals(dataset.name)
        for name in refused:
            refuse(landing, dataset, name, context.log)
        previous = load_cursor(context.cursor)
        sightings, requests = {}, []
        materialized = None
        for file in files:
            sighting, stable = observe(file, previous.get(file.name))
            sightings[file.name] = sighting
            if not stable or sighting.sha256 is not None:
                continue
            sighting.sha256 = content_sha256(landing.dataset_dir(dataset.name) / file.name)
            key = partition_key(file.name, sighting.sha256)
            if materialized is None:
                materialized = context.instance.get_materialized_partitions(dataset.key)
            if key in materialized:
                landing.archive(dataset.name, file.name, sighting.sha256)
                context.log.info(
                    f"{file.name}: same bytes as partition {key}, archived unprocessed"
                )
                del sightings[file.name]
                continue
            requests.append(run_request(dataset, file, sighting.sha256, key))
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[
                dataset.partitions.build_add_request([r.partition_key for r in requests])
            ]
            if requests
            else [],
            cursor=dump_cursor(sightings),
        )

    return landing_sensor


def observe(file: LandedFile, before: Sighting | None) -> tuple[Sighting, bool]:
    """A file is stable once two consecutive ticks saw the same size and modification time."""
    if before is not None and (before.size, before.mtime_ns) == (file.size, file.mtime_ns):
        return before, True
    return Sighting(file.size, file.mtime_ns), False


def run_request(dataset: LandingDataset, file: LandedFile, sha256: str, key: str) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=f"{dataset.name}:{sha256}",
        partition_key=key,
        tags={FILE_TAG: file.name, SHA256_TAG: sha256},
    )


def refuse(landing: LandingZone, dataset: LandingDataset, name: str, log) -> None:
    error = {
        "reason": "symlink refused: nothing outside the landing root is read",
        "format": None,
        "location": name,
        "expected": "a regular file",
        "found": "a symbolic link",
    }
    path = landing.quarantine(dataset.name, name, error)
    log.warning(f"{dataset.name}/{name} is a symlink: refused, moved to {path}")


landing_sensors = [
    build_landing_sensor(dataset, landing_job_name(dataset)) for dataset in TABULAR_DATASETS
]
