"""File-arrival sensors: one per dataset, requesting one run per new stable content.

One sensor per dataset (not one fanning out) so that each dataset has its own cursor, run
keys and on/off switch in the UI, and a flood of files in one folder never delays another.

Each tick follows every file waiting in the folder until it leaves it:
- a file is hashed once two ticks saw the same size and modification time;
- bytes that already landed, under any name, are archived without a run, naming the earlier file;
- a file whose bytes are being converted from another name waits for that run;
- otherwise a run is requested (its dynamic partition added with it); the run archives the file,
  or quarantines it when it cannot be converted;
- a run that fails for another reason leaves the file in place: it is requested again after a
  growing delay, and quarantined with the last error once `Retries.attempts` runs failed.

The cursor holds only files still waiting and the partitions of runs whose file is gone but
whose outcome is not known yet: a partition whose run ended without materialising it is deleted,
so no partition is left without a materialisation.
"""

import json
import time
from dataclasses import asdict, dataclass, field
from functools import cached_property

import dagster as dg

from dataplatform.landing.datasets import (
    FILE_TAG,
    SHA256_TAG,
    TABULAR_DATASETS,
    LandingDataset,
    landing_job_name,
    partition_key,
)
from dataplatform.landing.runs import REQUEST_TAG, failure_reason, landed_before, run_for
from dataplatform.landing.zone import LandedFile, LandingZone, content_sha256

SENSOR_INTERVAL_SECONDS = 15


@dataclass(frozen=True)
class Retries:
    """How often a file whose run failed (not because of its content) is tried, and when."""

    attempts: int = 3
    first_delay_seconds: float = 60.0

    def delay(self, failed_attempt: int) -> float:
        return self.first_delay_seconds * 2 ** (failed_attempt - 1)


@dataclass
class Sighting:
    size: int
    mtime_ns: int
    sha256: str | None = None  # set once the file was stable
    attempt: int = 0  # runs requested so far
    retry_at: float | None = None  # after a failed run: when the next may be requested


@dataclass
class Cursor:
    files: dict[str, Sighting] = field(default_factory=dict)
    unsettled: dict[str, str] = field(default_factory=dict)  # partition key -> request

    @classmethod
    def parse(cls, cursor: str | None) -> "Cursor":
        data = json.loads(cursor or "{}")
        if "files" not in data:  # the cursor before retries: every file is looked at afresh
            return cls()
        files = {name: Sighting(**values) for name, values in data["files"].items()}
        return cls(files, data["unsettled"])

    def serialize(self) -> str:
        files = {name: asdict(sighting) for name, sighting in sorted(self.files.items())}
        return json.dumps({"files": files, "unsettled": self.unsettled}, sort_keys=True)


def request_id(dataset: LandingDataset, name: str, sighting: Sighting) -> str:
    """The run key of a sighting's attempt: a file dropped again, or retried, is a new request."""
    return f"{dataset.name}:{sighting.sha256}:{name}:{sighting.mtime_ns}:{sighting.attempt}"


class _Tick:
    """One evaluation: what each waiting file needs, gathered into one sensor result."""

    def __init__(
        self,
        context: dg.SensorEvaluationContext,
        landing: LandingZone,
        dataset: LandingDataset,
        retries: Retries,
        previous: Cursor,
    ) -> None:
        self.context, self.landing, self.dataset, self.retries = context, landing, dataset, retries
        self.cursor = Cursor(unsettled=dict(previous.unsettled))
        self.requests: list[dg.RunRequest] = []
        self.added: list[str] = []
        self.deleted: list[str] = []
        self.in_flight = {s.sha256 for s in previous.files.values() if s.attempt}

    @cached_property
    def materialized(self) -> set[str]:
        return set(self.context.instance.get_materialized_partitions(self.dataset.key))

    def follow(self, file: LandedFile, before: Sighting | None) -> None:
        sighting, stable = observe(file, before)
        if before is not None and sighting is not before:
            self.leave(file.name, before)  # it changed: its earlier content is no longer here
        followed = self.stable(file.name, sighting) if stable else sighting
        if followed is not None:
            self.cursor.files[file.name] = followed

    def stable(self, name: str, sighting: Sighting) -> Sighting | None:
        if sighting.sha256 is None:
            sighting.sha256 = content_sha256(self.landing.dataset_dir(self.dataset.name) / name)
        if sighting.attempt:
            return self.after_run(name, sighting)
        return self.new(name, sighting)

    def new(self, name: str, sighting: Sighting) -> Sighting | None:
        assert sighting.sha256 is not None
        earlier = landed_before(
            self.context.instance, self.dataset, sighting.sha256, self.materialized
        )
        if earlier is not None:
            self.archive_duplicate(name, sighting.sha256, earlier)
            return None
        if sighting.sha256 in self.in_flight:
            return sighting  # the same bytes are being converted under another name
        return self.request(name, sighting)

    def after_run(self, name: str, sighting: Sighting) -> Sighting | None:
        assert sighting.sha256 is not None
        run = run_for(self.context.instance, request_id(self.dataset, name, sighting))
        if run is None or not run.is_finished:
            return sighting
        if not (self.landing.dataset_dir(self.dataset.name) / name).exists():
            return None  # the run archived or quarantined it meanwhile
        if run.status == dg.DagsterRunStatus.SUCCESS:
            # The run moved its file away: this one brought the same bytes again.
            self.archive_duplicate(name, sighting.sha256, name)
            return None
        reason = failure_reason(self.context.instance, run)
        if sighting.attempt >= self.retries.attempts:
            self.give_up(name, sighting, run, reason)
            return None
        if sighting.retry_at is None:
            sighting.retry_at = time.time() + self.retries.delay(sighting.attempt)
            self.context.log.warning(
                f"{self.dataset.name}/{name}: run {run.run_id} (attempt {sighting.attempt}) failed"
                f" but left the file in place: {reason}; trying again in"
                f" {self.retries.delay(sighting.attempt):.0f} s"
            )
        return self.request(name, sighting) if time.time() >= sighting.retry_at else sighting

    def request(self, name: str, sighting: Sighting) -> Sighting:
        assert sighting.sha256 is not None
        sighting.attempt += 1
        sighting.retry_at = None
        key = partition_key(name, sighting.sha256)
        if sighting.attempt == 1:
            self.added.append(key)
        request = request_id(self.dataset, name, sighting)
        self.requests.append(
            dg.RunRequest(
                run_key=request,
                partition_key=key,
                tags={FILE_TAG: name, SHA256_TAG: sighting.sha256, REQUEST_TAG: request},
            )
        )
        self.in_flight.add(sighting.sha256)
        return sighting

    def archive_duplicate(self, name: str, sha256: str, earlier: str) -> None:
        target = self.landing.archive(self.dataset.name, name, sha256)
        self.context.log.info(
            f"{self.dataset.name}/{name}: same bytes as {earlier}, which already landed;"
            f" archived to {target} without a new run"
        )

    def give_up(self, name: str, sighting: Sighting, run: dg.DagsterRun, reason: str) -> None:
        error = {
            "reason": f"{sighting.attempt} runs failed; the last error: {reason}",
            "format": None,
            "location": f"run {run.run_id}",
            "expected": "a run that converts the file",
            "found": reason,
        }
        target = self.landing.quarantine(self.dataset.name, name, error, sighting.sha256)
        self.context.log.error(
            f"{self.dataset.name}/{name}: {sighting.attempt} runs failed, quarantined to"
            f" {target}: {reason}"
        )
        self.leave(name, sighting)

    def leave(self, name: str, sighting: Sighting) -> None:
        """The sighting is no longer followed: its partition is settled once its run ends."""
        if sighting.attempt and sighting.sha256 is not None:
            key = partition_key(name, sighting.sha256)
            self.cursor.unsettled[key] = request_id(self.dataset, name, sighting)

    def settle(self) -> None:
        """Delete the partitions whose run ended without materialising them."""
        for key, request in list(self.cursor.unsettled.items()):
            run = run_for(self.context.instance, request)
            if run is not None and run.is_finished:
                del self.cursor.unsettled[key]
                if key not in self.materialized and key not in self.added:
                    self.deleted.append(key)

    def result(self) -> dg.SensorResult:
        partitions = self.dataset.partitions
        changes = [partitions.build_delete_request(self.deleted)] if self.deleted else []
        changes += [partitions.build_add_request(self.added)] if self.added else []
        return dg.SensorResult(
            run_requests=self.requests,
            dynamic_partitions_requests=changes,
            cursor=self.cursor.serialize(),
        )


def build_landing_sensor(
    dataset: LandingDataset, job_name: str, retries: Retries = Retries()
) -> dg.SensorDefinition:
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
        previous = Cursor.parse(context.cursor)
        tick = _Tick(context, landing, dataset, retries, previous)
        present = {file.name for file in files}
        for name, sighting in previous.files.items():
            if name not in present:
                tick.leave(name, sighting)
        for file in files:
            tick.follow(file, previous.files.get(file.name))
        tick.settle()
        return tick.result()

    return landing_sensor


def observe(file: LandedFile, before: Sighting | None) -> tuple[Sighting, bool]:
    """A file is stable once two consecutive ticks saw the same size and modification time."""
    if before is not None and (before.size, before.mtime_ns) == (file.size, file.mtime_ns):
        return before, True
    return Sighting(file.size, file.mtime_ns), False


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
