"""Every setting of the platform in one place: its variable, type, default and what is accepted.

Settings are read when the code location loads (a `@dg.definitions` function, never at import)
and validated as a whole, so a bad value stops the platform before any data is fetched or
written, with one line per bad variable. Secrets are only checked for presence here: their
values are bound with `dg.EnvVar` and resolved when a run launches, so they never reach the UI,
logs or error text. Dagster's `EnvVar` has no default, which is why the optional settings are
read here instead of being bound one by one.
"""

import json
import os
import uuid
import zoneinfo
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    model_validator,
)

from dataplatform.mart.target import MartTarget, mart_target

SECRETS = ("DATAPLATFORM_API_TOKEN", "DATAPLATFORM_DATAHUB_TOKEN", "DATAPLATFORM_ALERT_WEBHOOK_URL")


class SettingsError(ValueError):
    """One or more settings are not accepted; each line names a variable, its value and why."""


class SinkKind(StrEnum):
    LITE = "lite"
    REST = "rest"
    FILE = "file"
    NONE = "none"


class ExecutorKind(StrEnum):
    MULTIPROCESS = "multiprocess"
    IN_PROCESS = "in_process"
    CELERY = "celery"


def _url(schemes: tuple[str, ...], optional: bool = False) -> AfterValidator:
    def check(value: str) -> str:
        if optional and not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.netloc:
            raise ValueError(f"expected a {' or '.join(schemes)} URL with a host")
        return value.rstrip("/")

    return AfterValidator(check)


def _clock_time(value: str) -> str:
    try:
        datetime.strptime(value, "%H:%M")
    except ValueError:
        raise ValueError("expected a time of day as HH:MM, e.g. 02:00") from None
    return value


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("expected an IANA time zone, e.g. UTC or Europe/Paris") from None
    return value


HttpUrl = Annotated[str, _url(("http", "https"))]
OptionalHttpUrl = Annotated[str, _url(("http", "https"), optional=True)]
OptionalBrokerUrl = Annotated[str, _url(("redis", "rediss", "amqp", "amqps"), optional=True)]
ClockTime = Annotated[str, AfterValidator(_clock_time)]
TimeZone = Annotated[str, AfterValidator(_timezone)]


class _FromEnvironment(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings from `environ` (default: the process environment); unset or empty
        variables take their default."""
        environ = os.environ if environ is None else environ
        names = {field.alias for field in cls.model_fields.values() if field.alias}
        given = {name: environ[name] for name in names if environ.get(name, "")}
        try:
            # A secret is only known to be set: its value is resolved by dg.EnvVar at launch.
            return cls.model_validate({k: k in SECRETS or v for k, v in given.items()})
        except ValidationError as error:
            raise SettingsError(_describe(error, given)) from None


def _describe(error: ValidationError, given: Mapping[str, str]) -> str:
    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else ""
        reason = problem["msg"].removeprefix("Value error, ")
        if name in given:
            shown = "***" if name in SECRETS else repr(given[name])
            lines.append(f"{name}={shown}: {reason}")
        else:
            lines.append(reason)
    return "\n".join(lines)


class Calendar(_FromEnvironment):
    """The daily partition calendar: the first day of data and the time zone days follow.

    Unset, the first day is the day before the platform first loaded with this data folder
    (the day `make run` fills), recorded there once (`calendar.json`): the calendar then holds
    the days that ran, not months of days nobody meant to run, and it does not move as days pass.
    """

    configured_start: date | None = Field(None, alias="DATAPLATFORM_START_DATE")
    timezone: TimeZone = Field("UTC", alias="DATAPLATFORM_TIMEZONE")
    data_dir: str = Field(
        default_factory=lambda: str(Path.cwd() / "data"), alias="DATAPLATFORM_DATA_DIR"
    )

    @model_validator(mode="after")
    def _has_a_complete_day(self) -> Self:
        yesterday = self.today() - timedelta(days=1)
        if self.configured_start is not None and self.configured_start > yesterday:
            raise ValueError(
                f"DATAPLATFORM_START_DATE={self.configured_start.isoformat()!r}: expected a day on"
                f" or before yesterday ({yesterday.isoformat()}), or there is no day to run"
            )
        return self

    def today(self) -> date:
        return datetime.now(zoneinfo.ZoneInfo(self.timezone)).date()

    @property
    def start_date(self) -> date:
        """The configured first day, or the one recorded in the data folder (recorded now, on
        the first call with a new data folder)."""
        if self.configured_start is not None:
            return self.configured_start
        first_day = self.today() - timedelta(days=1)
        record = Path(_local(self.data_dir)) / CALENDAR_FILE
        try:
            return recorded_start_date(record, first_day)
        except OSError as error:
            raise SettingsError(
                f"DATAPLATFORM_START_DATE is unset and its default cannot be recorded in"
                f" {str(record)!r} ({error.strerror}): set it, or DATAPLATFORM_DATA_DIR"
            ) from None


CALENDAR_FILE = "calendar.json"


def recorded_start_date(record: Path, first_day: date) -> date:
    """The start date in `record`, written as `first_day` if there is none yet; the first of
    concurrent writers wins (a link never replaces a file), so every process agrees."""
    if not record.exists():
        record.parent.mkdir(parents=True, exist_ok=True)
        draft = record.with_name(f".{record.name}.{uuid.uuid4().hex}")
        draft.write_text(json.dumps({"start_date": first_day.isoformat()}) + "\n")
        try:
            os.link(draft, record)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return date.fromisoformat(json.loads(record.read_text())["start_date"])


LOCAL_MLFLOW_UI_URL = "http://127.0.0.1:5000"  # make dev, make mlflow-ui
LOCAL_REPORTS_URL = "http://127.0.0.1:8766"  # make dev


class PlatformSettings(_FromEnvironment):
    """What differs between the embedded default and production; the defaults run locally."""

    data_dir: str = Field(
        default_factory=lambda: str(Path.cwd() / "data"), alias="DATAPLATFORM_DATA_DIR"
    )
    catalog_dir: str = Field("", alias="DATAPLATFORM_CATALOG_DIR")
    landing_dir: str = Field("", alias="DATAPLATFORM_LANDING_DIR")

    api_url: HttpUrl = Field("http://127.0.0.1:8765", alias="DATAPLATFORM_API_URL")
    api_token_set: bool = Field(False, alias="DATAPLATFORM_API_TOKEN")
    api_page_size: PositiveInt = Field(1000, alias="DATAPLATFORM_API_PAGE_SIZE")
    api_concurrency: PositiveInt = Field(4, alias="DATAPLATFORM_API_CONCURRENCY")
    api_max_attempts: PositiveInt = Field(6, alias="DATAPLATFORM_API_MAX_ATTEMPTS")
    api_timeout_seconds: PositiveFloat = Field(30.0, alias="DATAPLATFORM_API_TIMEOUT_SECONDS")
    api_max_retry_after_seconds: PositiveFloat = Field(
        60.0, alias="DATAPLATFORM_API_MAX_RETRY_AFTER_SECONDS"
    )

    datahub_sink: SinkKind = Field(SinkKind.LITE, alias="DATAPLATFORM_DATAHUB_SINK")
    datahub_server: OptionalHttpUrl = Field("", alias="DATAPLATFORM_DATAHUB_SERVER")
    datahub_token_set: bool = Field(False, alias="DATAPLATFORM_DATAHUB_TOKEN")
    datahub_file: str = Field("", alias="DATAPLATFORM_DATAHUB_FILE")
    datahub_strict: bool = Field(False, alias="DATAPLATFORM_DATAHUB_STRICT")
    datahub_env: str = Field("PROD", alias="DATAPLATFORM_DATAHUB_ENV", pattern=r"^[A-Z]+$")
    ui_url: HttpUrl = Field("http://127.0.0.1:3000", alias="DAGSTER_UI_URL")

    mlflow_tracking_uri: str = Field("", alias="MLFLOW_TRACKING_URI")
    # Where the UI links go: MLflow's UI (empty: the tracking server itself when it is one, else
    # `make dev`'s), and the quality reports served over HTTP (`make dev` serves them here).
    mlflow_ui_url: OptionalHttpUrl = Field("", alias="DATAPLATFORM_MLFLOW_UI_URL")
    reports_url: HttpUrl = Field(LOCAL_REPORTS_URL, alias="DATAPLATFORM_REPORTS_URL")
    # Empty: the DuckDB file <data dir>/mart.duckdb; or a DuckDB file path; or
    # postgresql://user@host:port/db?schema=mart (the password from PGPASSWORD, never the URL).
    mart_url: str = Field("", alias="DATAPLATFORM_MART_URL")
    quality_sample_size: PositiveInt = Field(10_000, alias="DATAPLATFORM_QUALITY_SAMPLE_SIZE")
    alert_webhook_set: bool = Field(False, alias="DATAPLATFORM_ALERT_WEBHOOK_URL")
    entity_truth: str = Field("", alias="DATAPLATFORM_ENTITY_TRUTH")

    schedule_time: ClockTime = Field("02:00", alias="DATAPLATFORM_SCHEDULE_TIME")
    catalog_schedule_time: ClockTime = Field("03:00", alias="DATAPLATFORM_CATALOG_SCHEDULE_TIME")

    executor: ExecutorKind = Field(ExecutorKind.MULTIPROCESS, alias="DATAPLATFORM_EXECUTOR")
    celery_broker: OptionalBrokerUrl = Field("", alias="DATAPLATFORM_CELERY_BROKER")
    celery_backend: str = Field("", alias="DATAPLATFORM_CELERY_BACKEND")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.datahub_sink is SinkKind.REST and not self.datahub_server:
            raise ValueError(
                "DATAPLATFORM_DATAHUB_SERVER is required when DATAPLATFORM_DATAHUB_SINK=rest"
                " (the GMS address, e.g. http://datahub-gms:8080)"
            )
        if self.executor is ExecutorKind.CELERY and not self.celery_broker:
            raise ValueError(
                "DATAPLATFORM_CELERY_BROKER is required when DATAPLATFORM_EXECUTOR=celery"
                " (a redis:// or amqp:// URL)"
            )
        for name, folder in self.local_folders().items():
            _require_writable_folder(name, folder)
        try:
            mart_target(self.mart_url, _local(self.data_dir))
        except ValueError as error:  # the value is not repeated: it may hold a password
            raise ValueError(f"DATAPLATFORM_MART_URL: {error}") from None
        return self

    def local_folders(self) -> dict[str, Path]:
        folders = {}
        if "://" not in self.data_dir:  # an fsspec URL (s3://...) is checked when written
            folders["DATAPLATFORM_DATA_DIR"] = Path(self.data_dir)
        folders["DATAPLATFORM_CATALOG_DIR"] = Path(self.catalog_folder)
        folders["DATAPLATFORM_LANDING_DIR"] = Path(self.landing_folder)
        return folders

    @property
    def mlflow_ui(self) -> str:
        if self.mlflow_ui_url:
            return self.mlflow_ui_url
        if self.mlflow_tracking_uri.startswith(("http://", "https://")):
            return self.mlflow_tracking_uri.rstrip("/")
        return LOCAL_MLFLOW_UI_URL

    @property
    def catalog_folder(self) -> str:
        return self.catalog_dir or str(Path(_local(self.data_dir)) / "catalog")

    @property
    def landing_folder(self) -> str:
        return self.landing_dir or str(Path(_local(self.data_dir)) / "landing")

    @property
    def mart(self) -> MartTarget:
        """The database of the data mart: DuckDB beside the data unless configured."""
        return mart_target(self.mart_url, _local(self.data_dir))

    @property
    def datahub_file_path(self) -> str:
        return self.datahub_file or str(Path(self.catalog_folder) / "mcps.json")


def _local(data_dir: str) -> str:
    """The local folder beside an object-store data dir, for what must stay on disk."""
    return str(Path.cwd() / "data") if "://" in data_dir else data_dir


def _require_writable_folder(name: str, folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{name}={str(folder)!r}: is a file, expected a folder")
    existing = next(parent for parent in (folder, *folder.parents) if parent.exists())
    if not existing.is_dir():
        raise ValueError(f"{name}={str(folder)!r}: cannot be created, {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{name}={str(folder)!r}: cannot write there ({existing} is read-only)")
