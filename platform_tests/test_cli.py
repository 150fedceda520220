"""The `dataplatform` command: runs with progress and summary, status, listing, exit codes."""

import io
import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
from datahub.lite.lite_util import get_datahub_lite
from rich.console import Console

from dataplatform import definitions
from dataplatform.catalog.spool import Spool
from dataplatform.cleaning.tables import USERS as USERS_TABLE
from dataplatform.cli import main, output
from dataplatform.cli.errors import (
    EXIT_ERROR_CHECK_FAILED,
    EXIT_OK,
    EXIT_RUN_FAILED,
    EXIT_USAGE,
)
from dataplatform.cli.instance import local_instance
from dataplatform.cli.launch import LOCATION
from dataplatform.cli.progress import RunOutcome
from dataplatform.cli.run import demo_api_config, run_exit_code
from dataplatform.cli.selection import runnable_assets
from dataplatform.defs.cleaning.assets import build_cleaned_asset
from dataplatform.defs.entities.assets import build_entity_assets
from dataplatform.defs.ingestion.assets import build_raw_asset
from dataplatform.demo_api import DemoApiConfig, DemoApiServer
from dataplatform.demo_api.endpoints import ENDPOINTS_BY_NAME
from dataplatform.entities.key_store import PreparedKeyStore
from dataplatform.entities.label_files import read_labels_file
from dataplatform.entities.platform_specs import USERS
from dataplatform.entities.plots import PlotStore
from dataplatform.entities.truth import EntityTruth
from dataplatform.landing.zone import LandingZone
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from dataplatform.resources.source_api import SourceApiClient
from dataplatform.settings import Calendar
from platform_tests.demo_data import DAY, SMALL
from platform_tests.events import materialization_metadata
from platform_tests.gms_stand_in import GmsStandIn
from platform_tests.lineage_samples import sample_mcps

SELECTION = "group:raw or key:cleaned/reviews"
NEXT_DAY = (date.fromisoformat(DAY) + timedelta(days=1)).isoformat()


@pytest.fixture
def local_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps at 80 columns when not on a terminal
    monkeypatch.delenv("DATAPLATFORM_API_URL", raising=False)
    return tmp_path / "data"


def status_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["status", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def run_ids_in_catalog(data: Path) -> list[str]:
    lite = get_datahub_lite(
        {"type": "sqlite", "config": {"file": str(data / "catalog" / "datahub_lite.sqlite")}},
        read_only=True,
    )
    runs = [urn for urn in lite.list_ids() if urn.startswith("urn:li:dataProcessInstance:")]
    lite.close()
    return runs


def test_run_materialises_the_day_summarises_it_and_status_reports_it(
    local_platform: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--partition", DAY, "--listens-per-day", "1500"]) == EXIT_OK

    out, err = capfd.readouterr()  # what reached the terminal, the run workers' output included
    listens = local_platform / "cleaned" / "listens" / f"{DAY}.parquet"
    rows = pq.read_metadata(listens).num_rows
    # Not a terminal: a plain line per asset as it lands, no live bar, then the summary.
    assert f"done    cleaned/listens  {rows} rows" in out
    assert "━" not in out.split("daily_refresh 2026")[0]
    assert f"daily_refresh {DAY} succeeded" in out
    assert str(listens) in out
    # Dependencies' warnings and the run worker's own log lines stay out of the terminal, in the
    # run workers' log; the platform's own warnings and skip reasons are shown. (Whether MLflow
    # logs creating its store there depends on which step first opens it: not asserted.)
    assert err == ""
    run_log = (local_platform.parent / "home" / "logs" / "run_output.log").read_text()
    no_champion = "Registered model 'review_sentiment' has no 'champion' version yet"
    assert "dagster - WARNING - daily_refresh - " in run_log  # the run worker's own lines
    assert no_champion in run_log
    assert f"warning models__sentiment_predictions: {no_champion}" in out
    assert f"skipped: {no_champion}" in out
    assert "skipped: models/sentiment_predictions not written" in out
    for folder in ("reviews", "exports", "documents", "labels/users"):
        assert (local_platform / "landing" / folder).is_dir()
    assert len(run_ids_in_catalog(local_platform)) == 1
    with local_instance() as instance:
        [run] = instance.get_runs()
        # Launched through the code location: the UI lists it under its job, as a daemon's run
        # (the job's Runs tab filters by job name and this repository tag).
        under_the_job = instance.get_runs(
            dg.RunsFilter(
                job_name="daily_refresh", tags={".dagster/repository": f"__repository__@{LOCATION}"}
            )
        )
    assert run.remote_job_origin is not None
    assert run.remote_job_origin.location_name == LOCATION
    assert [listed.run_id for listed in under_the_job] == [run.run_id]

    code, status = status_json(capfd)
    assert code == EXIT_OK
    by_asset = {asset["asset"]: asset for asset in status["assets"]}
    daily = definitions.defs().resolve_job_def("daily_refresh").asset_layer.executable_asset_keys
    # No champion yet: no scores, so none published in the mart either.
    scoring = {
        f"{group}/{table}"
        for group in ("models", "mart")
        for table in ("sentiment_predictions", "recommendations")
    }
    for key in daily:
        materialization = by_asset[key.to_user_string()]["last_materialization"]
        if key.to_user_string() in scoring:
            assert materialization is None
        else:
            assert materialization["partition"] == DAY
    assert by_asset["cleaned/listens"]["last_materialization"]["rows"] == rows
    checks = by_asset["cleaned/listens"]["checks"]
    assert checks and all(check["status"] == "passed" for check in checks)
    assert by_asset["landed/reviews"]["last_materialization"] is None


def test_run_over_a_range_runs_each_day_in_order_with_a_live_display(
    local_platform: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(
        output, "console", Console(file=terminal, force_terminal=True, color_system=None, width=120)
    )
    monkeypatch.setenv("DATAPLATFORM_DATAHUB_SINK", "none")
    dirty = replace(SMALL, dirty_rate=0.3)  # a dirty source: WARN checks fail, data still flows

    with DemoApiServer(dirty) as server:
        monkeypatch.setenv("DATAPLATFORM_API_URL", server.url)
        code = main(["run", "--select", SELECTION, "--from", DAY, "--to", NEXT_DAY])

    assert code == EXIT_OK
    shown = terminal.getvalue()
    assert shown.index(f"{SELECTION} {DAY}") < shown.index(f"{SELECTION} {NEXT_DAY}")
    planned = len(runnable_assets(SELECTION))  # every raw endpoint, cleaned/reviews, its rejects
    assert f"{planned}/{planned}" in shown  # the live bar, complete
    assert "reject_share_low failed (WARN)" in shown
    for day in (DAY, NEXT_DAY):
        assert (local_platform / "cleaned" / "reviews" / f"{day}.parquet").exists()
    assert not (local_platform / "cleaned" / "listens").exists()

    code, status = status_json(capsys, "--select", "key:cleaned/reviews")
    assert code == EXIT_OK  # WARN failures do not fail a script
    [reviews] = status["assets"]
    assert reviews["last_materialization"]["partition"] == NEXT_DAY
    failed = {
        check["name"]: check["severity"]
        for check in reviews["checks"]
        if check["status"] == "failed"
    }
    assert failed["reject_share_low"] == "WARN"
    assert set(failed.values()) == {"WARN"}


def test_status_exits_3_when_a_latest_error_check_failed(
    local_platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with local_instance() as instance:
        instance.report_runless_asset_event(
            dg.AssetCheckEvaluation(
                asset_key=dg.AssetKey(["cleaned", "users"]),
                check_name="keys_unique",
                passed=False,
                severity=dg.AssetCheckSeverity.ERROR,
            )
        )

    code, status = status_json(capsys, "--select", "group:cleaned")
    assert code == EXIT_ERROR_CHECK_FAILED
    users = next(asset for asset in status["assets"] if asset["asset"] == "cleaned/users")
    assert {"name": "keys_unique", "status": "failed", "severity": "ERROR"}.items() <= next(
        check for check in users["checks"] if check["name"] == "keys_unique"
    ).items()

    assert main(["status"]) == EXIT_ERROR_CHECK_FAILED
    assert "keys_unique (ERROR)" in capsys.readouterr().out


def test_run_exit_code_tells_failed_runs_from_failed_error_checks() -> None:
    def evaluation(severity: dg.AssetCheckSeverity) -> dg.AssetCheckEvaluation:
        return dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey("a"), check_name="c", passed=False, severity=severity
        )

    def outcome(success: bool, *failed: dg.AssetCheckEvaluation) -> RunOutcome:
        return RunOutcome(partition=DAY, success=success, checks={dg.AssetKey("a"): [*failed]})

    warned = outcome(True, evaluation(dg.AssetCheckSeverity.WARN))
    errored = outcome(True, evaluation(dg.AssetCheckSeverity.ERROR))
    assert run_exit_code([outcome(True), warned]) == EXIT_OK
    assert run_exit_code([outcome(True), errored]) == EXIT_ERROR_CHECK_FAILED
    assert run_exit_code([errored, outcome(False)]) == EXIT_RUN_FAILED


def test_a_range_stops_at_the_first_failed_run(
    local_platform: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATAPLATFORM_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DATAPLATFORM_API_MAX_ATTEMPTS", "1")

    assert main(["run", "--job", "raw_job", "--from", DAY, "--to", NEXT_DAY]) == 1

    out = capsys.readouterr().out
    assert f"raw_job {DAY} FAILED" in out
    assert "failed  run: " in out  # why, not only that
    assert f"1 partitions not run ({NEXT_DAY})" in out
    with local_instance() as instance:
        runs = instance.get_runs()
    assert [run.tags["dagster/partition"] for run in runs] == [DAY]
    assert runs[0].status == dg.DagsterRunStatus.FAILURE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--job", "no_such_job"], "no job named 'no_such_job'"),
        (["run", "--select", "key:no/such_asset"], "matches no asset"),
        (["run", "--select", "group:("], "invalid selection"),
        (["run", "--select", "+key:cleaned/reviews"], "same partitions definitions"),
        (["run", "--to", DAY], "--to needs --from"),
        (["run", "--partition", "1999-01-01", "--no-demo-api"], "unknown partition"),
        (["run", "--from", NEXT_DAY, "--to", DAY, "--no-demo-api"], "comes after"),
        (["run", "--job", "documents_job", "--partition", DAY], "not partitioned"),
        (["run", "--job", "land_reviews_job", "--no-demo-api"], "give --partition"),
        (["run", "--partition", DAY, "--from", DAY], "not allowed with"),
        (["run", "--job", "documents_job", "--days", "7"], "not partitioned"),
        (["run", "--days", "0"], "expected a positive number of days"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_before_anything_runs(
    local_platform: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(args) == EXIT_USAGE

    assert message in capsys.readouterr().err
    assert not local_platform.exists()


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--help"]) == 0

    out = capsys.readouterr().out
    for code in ("0", "1", "2", "3"):
        assert f"\n  {code}  " in out


def test_list_shows_every_group_job_schedule_and_sensor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["list", "--json"]) == 0

    listed = json.loads(capsys.readouterr().out)
    defs = definitions.defs()
    groups = {spec.group_name for spec in defs.resolve_all_asset_specs()}
    assert {asset["group"] for asset in listed["assets"]} == groups
    assert {asset["asset"] for asset in listed["assets"]} == {
        key.to_user_string() for key in defs.resolve_all_asset_keys()
    }
    assert {job["job"] for job in listed["jobs"]} == {job.name for job in defs.jobs or []}
    assert {s["schedule"] for s in listed["schedules"]} == {s.name for s in defs.schedules or []}
    assert {s["sensor"] for s in listed["sensors"]} == {s.name for s in defs.sensors or []}
    listens = next(asset for asset in listed["assets"] if asset["asset"] == "cleaned/listens")
    assert listens["partitions"] == "daily" and "keys_unique" in listens["checks"]


def test_replay_lineage_sends_the_spool(
    local_platform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAPLATFORM_DATAHUB_SINK", "file")
    spool = Spool(local_platform / "catalog" / "spool")
    spool.append(sample_mcps("spooled"))

    assert main(["replay-lineage"]) == 0
    assert spool.pending() == []
    assert "spooled" in (local_platform / "catalog" / "mcps.json").read_text()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATAPLATFORM_DATAHUB_SINK", "bogus"),
        ("DATAPLATFORM_EXECUTOR", "threads"),
        ("DATAPLATFORM_API_PAGE_SIZE", "0"),
        ("DATAPLATFORM_DATAHUB_SERVER", "gms:8080"),
        ("DATAPLATFORM_START_DATE", "2999-01-01"),
    ],
)
def test_a_bad_setting_exits_2_naming_it_before_anything_runs(
    local_platform: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv(variable, value)

    assert main(["run", "--partition", DAY]) == EXIT_USAGE

    err = capsys.readouterr().err
    [line] = err.strip().splitlines()
    assert line.startswith(f"dataplatform: configuration error: {variable}={value!r}: ")
    assert "Traceback" not in err
    assert not local_platform.exists()


def test_a_data_dir_that_is_a_file_or_an_unusable_dagster_home_exits_2(
    local_platform: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    a_file = local_platform.parent / "a-file"
    a_file.write_text("not a folder")
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(a_file))
    assert main(["run", "--partition", DAY]) == EXIT_USAGE
    assert "DATAPLATFORM_DATA_DIR=" in capsys.readouterr().err

    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(local_platform))
    monkeypatch.setenv("DAGSTER_HOME", str(a_file / "home"))
    assert main(["status"]) == EXIT_USAGE
    assert "DAGSTER_HOME=" in capsys.readouterr().err


def test_the_rest_sink_records_the_run_and_replays_the_spool_from_the_cli_without_the_token(
    local_platform: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "tok-cli-9f3b-s3cr3t"
    with GmsStandIn() as gms:
        monkeypatch.setenv("DATAPLATFORM_DATAHUB_SINK", "rest")
        monkeypatch.setenv("DATAPLATFORM_DATAHUB_SERVER", gms.url)
        monkeypatch.setenv("DATAPLATFORM_DATAHUB_TOKEN", token)
        spool = Spool(local_platform / "catalog" / "spool")
        spool.append(sample_mcps("spooled-before"))

        assert main(["run", "--job", "raw_job", "--partition", DAY]) == EXIT_OK
        assert main(["replay-lineage"]) == EXIT_OK

        ingested = {proposal["entityUrn"] for proposal in gms.ingested()}
        authorised = {r.headers.get("Authorization") for r in gms.requests if r.is_ingest}
    assert any(urn.startswith("urn:li:dataProcessInstance:") for urn in ingested)
    assert any("spooled-before" in urn for urn in ingested)
    assert authorised == {f"Bearer {token}"}
    assert spool.pending() == []
    shown = capfd.readouterr()  # the command's and its run worker's output, at the file level
    everything = shown.out + shown.err
    assert "Catalog: run recorded in DataHub (rest: sent)" in everything
    assert token not in everything
    with local_instance() as instance:
        [run] = instance.get_runs()
        logged = "".join(str(e) for e in instance.all_logs(run.run_id))
    assert token not in logged and token not in json.dumps(run.run_config)


def test_a_strict_sink_that_cannot_deliver_fails_the_run_in_one_line_not_a_traceback(
    local_platform: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAPLATFORM_DATAHUB_SINK", "rest")
    monkeypatch.setenv("DATAPLATFORM_DATAHUB_SERVER", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("DATAPLATFORM_DATAHUB_STRICT", "true")

    assert main(["run", "--job", "raw_job", "--partition", DAY]) == EXIT_RUN_FAILED

    shown = capfd.readouterr()
    assert "DataHub rest sink failed" in shown.out
    assert f"raw_job {DAY} FAILED" in shown.out
    assert "Catalog: run not recorded in DataHub" in shown.out
    assert "Traceback" not in shown.out + shown.err


def materialise_users(data: Path, config: DemoApiConfig, day: str) -> dg.ExecuteInProcessResult:
    """The users' raw, cleaned and entity assets of `day`, in the command's instance."""
    reviewed = replace(USERS, review_band=(0.0, 1.0))  # every candidate pair is reviewable
    assets = [
        build_raw_asset(ENDPOINTS_BY_NAME["users"]),
        build_cleaned_asset(USERS_TABLE),
        *build_entity_assets(reviewed, dg.AssetKey(["cleaned", "users"])),
    ]
    with DemoApiServer(config) as api, local_instance() as instance:
        return dg.materialize(
            assets,
            partition_key=day,
            instance=instance,
            resources={
                "io_manager": ParquetIOManager(base_path=str(data)),
                "source_api": SourceApiClient(base_url=api.url),
                "entity_truth": EntityTruth(labels_path=""),
                "plots": PlotStore(base_path=str(data)),
                "prepared_keys": PreparedKeyStore(base_path=str(data)),
                "landing": LandingZone(root=str(data / "landing")),
            },
        )


def test_entities_review_asks_on_stdin_and_writes_labels_the_next_run_uses(
    local_platform: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = replace(SMALL, new_users_per_day=600)
    first, second, third = "2026-01-01", "2026-01-02", "2026-01-03"
    for day in (first, second):
        materialise_users(local_platform, config, day)
    uncertain = pq.read_table(
        local_platform / "entities" / "user_uncertain_pairs" / f"{second}.parquet"
    ).to_pandas()
    # yes to the first pair, a typo asked again, no to the second, skip the third, then quit
    monkeypatch.setattr("sys.stdin", io.StringIO("y\nmaybe\nn\ns\nq\n"))

    assert main(["entities", "review", "--limit", "5"]) == EXIT_OK

    out = capsys.readouterr().out
    [written] = (local_platform / "landing" / "labels" / "users").iterdir()
    labels = read_labels_file(written)
    expected = [
        (*sorted((str(row.left_id), str(row.right_id))), verdict)
        for row, verdict in zip(uncertain.head(2).itertuples(), (True, False), strict=True)
    ]
    assert labels[["left_id", "right_id", "is_match"]].values.tolist() == [
        list(label) for label in sorted(expected)
    ]
    assert "first_name" in out and "evidence: first_name" in out and "score" in out
    assert "'maybe': answer y, n, s or q" in out
    assert "Same user? [y]es, [n]o, [s]kip, [q]uit:" in out
    assert "Wrote 2 labels (1 matches, 1 non-matches)" in out

    # a second review before the next run does not ask the answered pairs again
    monkeypatch.setattr("sys.stdin", io.StringIO("q\n"))
    assert main(["entities", "review"]) == EXIT_OK
    shown = capsys.readouterr().out
    assert f"{min(len(uncertain) - 2, 20)} uncertain users pairs of {second}:" in shown

    next_run = materialise_users(local_platform, config, third)
    kept = materialization_metadata(next_run, "entities", "user_labels")
    resolution = materialization_metadata(next_run, "entities", "user_entities")
    assert kept["labels"].value == 2
    assert resolution["labels_given"].value == 2
    # the labelled records were resolved afresh, so that both verdicts weighed on the day
    assert resolution["records_resolved_afresh_for_labels"].value > 0
    assert resolution["labelled_pairs"].value == 2
    entity = (
        pq.read_table(local_platform / "entities" / "user_entities" / f"{third}.parquet")
        .to_pandas()
        .set_index("user_id")["entity_id"]
    )
    same = uncertain.iloc[0]
    assert entity[same["left_id"]] == entity[same["right_id"]]  # the pair labelled a match
    assert not any((local_platform / "landing" / "labels" / "users").iterdir())


def test_entities_review_before_any_run_says_what_to_run(
    local_platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["entities", "review"]) == EXIT_USAGE
    assert "no entities/user_uncertain_pairs materialised yet" in capsys.readouterr().err


def test_the_demo_source_has_a_week_of_history_before_the_default_calendar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATAPLATFORM_START_DATE")
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(tmp_path))
    first_day = Calendar.from_environment().start_date

    # The day make run fills is not the source's initial load (which has no second accounts).
    assert demo_api_config(5000).start_date == first_day - timedelta(days=7)
    monkeypatch.setenv("DATAPLATFORM_START_DATE", "2026-01-01")
    assert demo_api_config(5000).start_date == date(2026, 1, 1)


def test_parallel_step_processes_write_to_the_run_log_not_the_terminal(
    local_platform: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "--select", "key:raw/users", "--partition", DAY, "--listens-per-day", "1500"]

    assert main([*args, "--parallel"]) == EXIT_OK

    out, err = capfd.readouterr()
    assert err == ""
    assert f"key:raw/users {DAY} succeeded" in out
    run_log = (local_platform.parent / "home" / "logs" / "run_output.log").read_text()
    assert 'Executing step "raw__users" in subprocess' in run_log  # the step's own process
