"""Every setting is validated as a whole: a bad value is one line naming the variable and value."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest

from dataplatform.defs.resources import platform_resources
from dataplatform.settings import (
    Calendar,
    PlatformSettings,
    SettingsError,
    SinkKind,
    recorded_start_date,
)

BAD_SETTINGS = [
    ("DATAPLATFORM_DATAHUB_SINK", "bogus", "'lite', 'rest', 'file' or 'none'"),
    ("DATAPLATFORM_EXECUTOR", "threads", "'multiprocess', 'in_process' or 'celery'"),
    ("DATAPLATFORM_API_URL", "localhost:8765", "http or https URL"),
    ("DATAPLATFORM_API_URL", "ftp://example.com", "http or https URL"),
    ("DAGSTER_UI_URL", "http://", "http or https URL"),
    ("DATAPLATFORM_API_PAGE_SIZE", "0", "greater than 0"),
    ("DATAPLATFORM_API_CONCURRENCY", "-2", "greater than 0"),
    ("DATAPLATFORM_API_MAX_ATTEMPTS", "many", "valid integer"),
    ("DATAPLATFORM_API_TIMEOUT_SECONDS", "0", "greater than 0"),
    ("DATAPLATFORM_QUALITY_SAMPLE_SIZE", "-1", "greater than 0"),
    ("DATAPLATFORM_DATAHUB_STRICT", "perhaps", "valid boolean"),
    ("DATAPLATFORM_SCHEDULE_TIME", "25:00", "HH:MM"),
    ("DATAPLATFORM_CATALOG_SCHEDULE_TIME", "3am", "HH:MM"),
    ("DATAPLATFORM_CELERY_BROKER", "http://broker", "redis or rediss or amqp or amqps URL"),
]


@pytest.mark.parametrize(("name", "value", "accepted"), BAD_SETTINGS)
def test_a_bad_value_names_the_variable_its_value_and_what_is_accepted(
    name: str, value: str, accepted: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        PlatformSettings.from_environment({name: value})

    [line] = str(raised.value).splitlines()
    assert line.startswith(f"{name}={value!r}: ")
    assert accepted in line


def test_no_configuration_is_the_embedded_default(tmp_path: Path) -> None:
    settings = PlatformSettings.from_environment({"DATAPLATFORM_DATA_DIR": str(tmp_path)})

    assert settings.datahub_sink is SinkKind.LITE
    assert settings.catalog_folder == str(tmp_path / "catalog")
    assert settings.landing_folder == str(tmp_path / "landing")
    assert settings.api_url == "http://127.0.0.1:8765"


def test_every_bad_setting_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        PlatformSettings.from_environment(
            {"DATAPLATFORM_API_PAGE_SIZE": "0", "DATAPLATFORM_EXECUTOR": "threads"}
        )

    names = sorted(line.split("=")[0] for line in str(raised.value).splitlines())
    assert names == ["DATAPLATFORM_API_PAGE_SIZE", "DATAPLATFORM_EXECUTOR"]


def test_a_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    a_file = tmp_path / "data"
    a_file.write_text("not a folder")

    with pytest.raises(SettingsError, match=r"^DATAPLATFORM_DATA_DIR='.*data': is a file"):
        PlatformSettings.from_environment({"DATAPLATFORM_DATA_DIR": str(a_file)})


def test_a_catalog_folder_that_cannot_be_created_is_refused(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("a file where a folder would have to be")

    with pytest.raises(SettingsError, match=r"^DATAPLATFORM_CATALOG_DIR=.*cannot be created"):
        PlatformSettings.from_environment(
            {
                "DATAPLATFORM_DATA_DIR": str(tmp_path),
                "DATAPLATFORM_CATALOG_DIR": str(a_file / "catalog"),
            }
        )


def test_the_rest_sink_needs_a_server_and_celery_a_broker() -> None:
    with pytest.raises(SettingsError, match="DATAPLATFORM_DATAHUB_SERVER is required"):
        PlatformSettings.from_environment({"DATAPLATFORM_DATAHUB_SINK": "rest"})
    with pytest.raises(SettingsError, match="DATAPLATFORM_CELERY_BROKER is required"):
        PlatformSettings.from_environment({"DATAPLATFORM_EXECUTOR": "celery"})


def test_a_secret_is_bound_by_name_and_never_echoed(tmp_path: Path) -> None:
    environment = {
        "DATAPLATFORM_DATA_DIR": str(tmp_path),
        "DATAPLATFORM_DATAHUB_SINK": "rest",
        "DATAPLATFORM_DATAHUB_SERVER": "http://gms.example:8080",
        "DATAPLATFORM_DATAHUB_TOKEN": "s3cr3t-token",
        "DATAPLATFORM_API_TOKEN": "api-s3cr3t",
    }
    settings = PlatformSettings.from_environment(environment)
    resources = platform_resources(settings)

    assert "s3cr3t" not in repr(settings)
    assert resources["datahub"].token == "DATAPLATFORM_DATAHUB_TOKEN"  # an EnvVar, by name
    assert resources["source_api"].token == "DATAPLATFORM_API_TOKEN"


def test_a_start_date_after_yesterday_is_refused() -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()

    with pytest.raises(SettingsError, match=rf"^DATAPLATFORM_START_DATE='{tomorrow}'"):
        Calendar.from_environment({"DATAPLATFORM_START_DATE": tomorrow})
    with pytest.raises(SettingsError, match="IANA time zone"):
        Calendar.from_environment({"DATAPLATFORM_TIMEZONE": "Mars/Olympus"})


def test_an_unset_start_date_is_the_day_before_the_first_load_recorded_in_the_data_folder(
    tmp_path: Path,
) -> None:
    environment = {"DATAPLATFORM_DATA_DIR": str(tmp_path)}
    calendar = Calendar.from_environment(environment)

    assert calendar.start_date == calendar.today() - timedelta(days=1)
    # Recorded once: a load on a later day keeps the first load's start (as planted here).
    (tmp_path / "calendar.json").write_text('{"start_date": "2026-02-01"}')
    assert Calendar.from_environment(environment).start_date == date(2026, 2, 1)
    configured = {**environment, "DATAPLATFORM_START_DATE": "2026-01-01"}
    assert Calendar.from_environment(configured).start_date == date(2026, 1, 1)


def test_concurrent_first_loads_agree_on_one_recorded_start_date(tmp_path: Path) -> None:
    record = tmp_path / "data" / "calendar.json"
    days = [date(2026, 11, 1) + timedelta(days=offset) for offset in range(8)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        recorded = set(pool.map(lambda day: recorded_start_date(record, day), days))

    assert len(recorded) == 1 and recorded <= set(days)
    assert list(record.parent.iterdir()) == [record]


def test_a_start_date_that_cannot_be_recorded_says_which_setting_to_give(tmp_path: Path) -> None:
    a_file = tmp_path / "data"
    a_file.write_text("not a folder")
    calendar = Calendar.from_environment({"DATAPLATFORM_DATA_DIR": str(a_file)})

    with pytest.raises(SettingsError, match="DATAPLATFORM_START_DATE is unset"):
        _ = calendar.start_date


@pytest.mark.parametrize(
    ("environment", "ui"),
    [
        ({}, "http://127.0.0.1:5000"),  # the local store, browsed by make dev's MLflow UI
        ({"MLFLOW_TRACKING_URI": "http://mlflow:5000/"}, "http://mlflow:5000"),
        (
            {
                "MLFLOW_TRACKING_URI": "http://mlflow:5000",
                "DATAPLATFORM_MLFLOW_UI_URL": "https://mlflow.example.org",
            },
            "https://mlflow.example.org",
        ),
    ],
)
def test_mlflow_runs_link_to_the_ui_that_shows_their_store(
    tmp_path: Path, environment: dict[str, str], ui: str
) -> None:
    settings = PlatformSettings.from_environment(
        {"DATAPLATFORM_DATA_DIR": str(tmp_path), **environment}
    )

    assert settings.mlflow_ui == ui
