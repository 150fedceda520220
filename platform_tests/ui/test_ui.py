"""The Dagster UI in headless Chromium after a real run: graph, asset, checks, automation."""

import os
import re
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import httpx
import pyarrow.parquet as pq
import pytest

# Loaded here under the tests' fixed calendar (platform_tests/conftest.py), unlike the platform's
# processes: only what no calendar changes is read from it (keys, checks, automations).
from dataplatform import definitions
from dataplatform.cli.launch import LOCATION
from dataplatform.defs.quality.assets import quality_key
from platform_tests.ui.conftest import REPO

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser fixture says why: skipped locally, failed under CI
    Page = expect = None

ASSET = dg.AssetKey(["cleaned", "reviews"])
# The query of a job's Runs tab: the job's name and its repository's label tag.
JOB_RUNS_QUERY = """
query JobRuns($filter: RunsFilter!) {
  runsOrError(filter: $filter) {
    ... on Runs { results { runId status tags { key value } } }
    ... on PythonError { message }
  }
}
"""
# The partitions the webserver shows for an asset, from its own load of the definitions.
ASSET_PARTITIONS_QUERY = """
query AssetPartitions($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode { partitionKeys }
  }
}
"""


def publish(page: Page, artifacts: Path, name: str) -> None:
    """Keep a screenshot as an artifact (and as the README's: DATAPLATFORM_UPDATE_SCREENSHOTS=1)."""
    shot = artifacts / name
    page.screenshot(path=shot)
    if os.getenv("DATAPLATFORM_UPDATE_SCREENSHOTS") == "1":
        target = REPO / "docs" / "screenshots" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


def test_asset_graph_shows_every_group(page: Page, dagster_ui: str, artifacts: Path) -> None:
    groups = {spec.group_name for spec in definitions.defs().resolve_all_asset_specs()}

    page.goto(f"{dagster_ui}/asset-groups")

    for group in groups:
        # A collapsed group is a node of the SVG graph, titled by its name.
        expect(page.locator(f'svg foreignObject.group [data-tooltip="{group}"]')).to_be_visible()
    expect(page.get_by_text(re.compile(r"fetching statuses"))).to_have_count(0)
    publish(page, artifacts, "asset-graph.png")


def test_no_two_nodes_of_a_group_share_a_label(page: Page, dagster_ui: str) -> None:
    keys_by_group: dict[str, list[dg.AssetKey]] = {}
    for spec in definitions.defs().resolve_all_asset_specs():
        keys_by_group.setdefault(spec.group_name or "default", []).append(spec.key)
    repository = definitions.defs().get_repository_def().name
    # The graph draws only the nodes in view and zooms out no further than about seven stacked
    # nodes: a page this tall shows a whole group.
    page.set_viewport_size({"width": 1600, "height": 4000})

    for group, keys in keys_by_group.items():
        page.goto(f"{dagster_ui}/locations/{repository}@{LOCATION}/asset-groups/{group}")

        # The group's asset nodes, each with its label as tooltip (upstream assets: links, without).
        nodes = page.locator("svg foreignObject [data-tooltip]")
        expect(nodes).to_have_count(len(keys))
        labels = Counter(node.get_attribute("data-tooltip") for node in nodes.all())
        assert [label for label, count in labels.items() if count > 1] == [], group


def test_asset_page_shows_the_latest_materialisation_and_its_checks(
    page: Page, dagster_ui: str, artifacts: Path, platform_env: dict[str, str], filled_day: str
) -> None:
    written = Path(platform_env["DATAPLATFORM_DATA_DIR"], *ASSET.path, f"{filled_day}.parquet")

    page.goto(f"{dagster_ui}/assets/{ASSET.to_user_string()}")

    expect(page.get_by_text("Latest materialization")).to_be_visible()
    # The IO manager's metadata: the file written and the rows it holds.
    expect(page.get_by_text(str(written), exact=True)).to_be_visible()
    row_count = page.get_by_text("Row count").locator("xpath=..")
    expect(row_count).to_contain_text(str(pq.read_metadata(written).num_rows))
    publish(page, artifacts, "asset-materialization.png")

    page.get_by_role("tab", name="Checks").click()

    checks = definitions.defs().resolve_asset_graph().get(ASSET).check_keys
    expect(page.get_by_text(f"Checks ({len(checks)})")).to_be_visible()
    for check in checks:
        expect(page.get_by_text(check.name, exact=True).first).to_be_visible()
    expect(page.get_by_text("Succeeded", exact=True)).to_have_count(len(checks))
    publish(page, artifacts, "asset-checks.png")


def test_schedule_and_sensors_are_listed_and_running(
    page: Page, dagster_ui: str, artifacts: Path
) -> None:
    automations = [*definitions.defs().schedules, *definitions.defs().sensors]

    page.goto(f"{dagster_ui}/automation")

    for automation in automations:
        expect(page.get_by_text(automation.name, exact=True)).to_be_visible()
    # Each row's on/off switch is a checkbox; they load after the names. On by default here.
    running = [a for a in automations if a.default_status.value == "RUNNING"]
    expect(page.locator("input[type=checkbox]:checked")).to_have_count(len(running))
    publish(page, artifacts, "automation.png")


def test_a_quality_asset_links_its_report_which_opens_in_one_click(
    page: Page, dagster_ui: str, artifacts: Path, platform_env: dict[str, str], filled_day: str
) -> None:
    quality = quality_key(ASSET)
    report_name = f"{filled_day}.html"
    report = Path(platform_env["DATAPLATFORM_DATA_DIR"], "quality", *ASSET.path, report_name)
    served = f"{platform_env['DATAPLATFORM_REPORTS_URL']}/{'/'.join(ASSET.path)}/{report_name}"

    page.goto(f"{dagster_ui}/assets/{quality.to_user_string()}")

    expect(page.get_by_text("Latest materialization")).to_be_visible()
    expect(page.get_by_text(str(report), exact=True)).to_be_visible()
    # Only the local servers answer from here: the report needs no network, as offline from disk.
    page.context.route(lambda url: not url.startswith("http://127.0.0.1:"), lambda r: r.abort())
    with page.context.expect_page() as opened:
        page.get_by_role("link", name=served, exact=True).click()
    shown = opened.value
    expect(shown).to_have_url(served)
    # deepchecks' figures, drawn by the plotly shared beside the reports.
    expect(shown.locator(".plot-container.plotly")).not_to_have_count(0)
    publish(shown, artifacts, "quality-report.png")


@pytest.mark.parametrize("model", ["models/sentiment_model", "models/recommender"])
def test_a_model_lists_its_evaluation_checks(
    page: Page, dagster_ui: str, artifacts: Path, model: str
) -> None:
    key = dg.AssetKey.from_user_string(model)
    # Defined on the model even before any training (the UI's run does not train).
    checks = definitions.defs().resolve_asset_graph().get(key).check_keys
    assert checks

    page.goto(f"{dagster_ui}/assets/{key.to_user_string()}")
    page.get_by_role("tab", name="Checks").click()

    expect(page.get_by_text(f"Checks ({len(checks)})")).to_be_visible()
    for check in checks:
        expect(page.get_by_text(check.name, exact=True).first).to_be_visible()
    if model == "models/sentiment_model":
        publish(page, artifacts, "model-checks.png")


def job_runs(dagster_ui: str, job_name: str) -> list[dict]:
    """The runs the job's Runs tab lists, from the webserver's GraphQL, as the page asks."""
    repository = definitions.defs().get_repository_def().name
    job_filter = {
        "pipelineName": job_name,
        "tags": [{"key": ".dagster/repository", "value": f"{repository}@{LOCATION}"}],
    }
    return graphql(dagster_ui, JOB_RUNS_QUERY, {"filter": job_filter})["runsOrError"]["results"]


def graphql(dagster_ui: str, query: str, variables: dict) -> dict:
    answer = httpx.post(
        f"{dagster_ui}/graphql", json={"query": query, "variables": variables}, timeout=60
    )
    answer.raise_for_status()
    return answer.json()["data"]


def test_the_cli_run_is_listed_under_its_job_with_its_partition(
    dagster_ui: str, filled_day: str
) -> None:
    [run] = job_runs(dagster_ui, "daily_refresh")

    assert run["status"] == "SUCCESS"
    assert {"key": "dagster/partition", "value": filled_day} in run["tags"]
    # As `make run`: the last complete day, whatever the calendar file says.
    assert filled_day == (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


def test_the_webserver_shows_the_calendar_the_run_recorded(
    dagster_ui: str, filled_day: str
) -> None:
    answer = graphql(dagster_ui, ASSET_PARTITIONS_QUERY, {"assetKey": {"path": ASSET.path}})

    # Only the day run: no earlier day waits as missing work.
    assert answer["assetNodeOrError"]["partitionKeys"] == [filled_day]


def test_the_job_page_lists_the_cli_run(page: Page, dagster_ui: str, artifacts: Path) -> None:
    [run] = job_runs(dagster_ui, "daily_refresh")

    page.goto(f"{dagster_ui}/locations/{LOCATION}/jobs/daily_refresh/runs")

    expect(page.get_by_text(run["runId"][:8]).first).to_be_visible()
    expect(page.get_by_text("No runs found")).to_have_count(0)
    publish(page, artifacts, "job-runs.png")
