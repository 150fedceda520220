"""A real local platform for the UI: `make run`'s day materialised, the webserver, a browser."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # the browser fixture skips (or fails, under CI) with the reason
    sync_playwright = None

from dataplatform.settings import CALENDAR_FILE
from platform_tests.services import service_unavailable

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.getenv("DATAPLATFORM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STARTUP_TIMEOUT_SECONDS = 180  # two shared cores: loading the code location can be slow
# The CLI's code server loads while the webserver's does: at load average 25 it passed
# Dagster's default 180 s.
CODE_SERVER_STARTUP_TIMEOUT_SECONDS = 600
# A day's run took over 300 s at load average 20; the bound only catches a hang.
RUN_TIMEOUT_SECONDS = 900
UI_TIMEOUT_MS = 60_000  # for a page, and for an assertion to come true


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots and logs kept after the run (CI uploads them); git-ignored."""
    folder = Path(os.getenv("DATAPLATFORM_TEST_ARTIFACTS", REPO / "platform_tests/ui/artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# Module-scoped: Playwright's sync API marks its asyncio loop as running in this thread until it
# stops, so any later test of the same worker that runs a loop (MLflow's ingestion into DataHub)
# would fail with "This event loop is already running".
@pytest.fixture(scope="module")
def browser() -> Iterator["Browser"]:
    if sync_playwright is None:
        service_unavailable("playwright is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        service_unavailable(f"Chromium is not installed at {CHROMIUM} (make browser)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def platform_env(
    tmp_path_factory: pytest.TempPathFactory, artifacts: Path
) -> Iterator[dict[str, str]]:
    """The embedded default in a temporary folder: SQLite instance, local data, DataHub Lite,
    and the quality reports served over HTTP as `make dev` serves them, so the UI links them."""
    root = tmp_path_factory.mktemp("ui_platform")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n"
        f"code_servers:\n  local_startup_timeout: {CODE_SERVER_STARTUP_TIMEOUT_SECONDS}\n"
    )
    data = root / "data"
    with serve_reports(data / "quality", artifacts / "reports-server.log") as reports_url:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "DATAPLATFORM_DATA_DIR": str(data),
            "DATAPLATFORM_REPORTS_URL": reports_url,
        }
        env.pop("DATAPLATFORM_API_URL", None)  # the CLI serves the bundled demo API itself
        # The default calendar, as a user has it: it starts on the day the run fills.
        env.pop("DATAPLATFORM_START_DATE", None)
        yield env


@contextmanager
def serve_reports(folder: Path, log_path: Path) -> Iterator[str]:
    """`make dev`'s static server on `folder` (a free port here); its URL while it runs."""
    folder.mkdir(parents=True)
    port = free_port()
    command = ["-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, *command], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_serving(url, server, log_path, "the reports' http.server")
            yield url
        finally:
            stop(server)


@pytest.fixture(scope="session")
def dagster_ui(platform_env: dict[str, str], artifacts: Path) -> Iterator[str]:
    """The webserver's URL, once `make run`'s day of the daily refresh is materialised and it
    is up."""
    port = free_port()
    log = (artifacts / "webserver.log").open("w")
    webserver = subprocess.Popen(
        [bin_path("dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
        cwd=REPO,
        env=platform_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its code server is a child: stop the whole group
    )
    try:
        materialise_the_default_day(platform_env, artifacts)
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(
            f"{url}/server_info", webserver, artifacts / "webserver.log", "dagster-webserver"
        )
        yield url
    finally:
        stop(webserver)
        log.close()


def materialise_the_default_day(env: dict[str, str], artifacts: Path) -> None:
    """What a user does first (`make run`): `dataplatform run` with no partition, through the
    real console script; it runs yesterday, the first day of the calendar it records."""
    result = subprocess.run(
        [bin_path("dataplatform"), "run", "--listens-per-day", "1500"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    (artifacts / "dataplatform-run.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="session")
def filled_day(dagster_ui: str, platform_env: dict[str, str]) -> str:
    """The day the run filled: the start of the default calendar, recorded in the data folder."""
    record = Path(platform_env["DATAPLATFORM_DATA_DIR"], CALENDAR_FILE)
    return json.loads(record.read_text())["start_date"]


def bin_path(script: str) -> str:
    return str(Path(sys.executable).parent / script)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen, log: Path, name: str) -> None:
    """Until `url` answers 200; fails with the server's log if it exits first."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"{name} exited ({server.returncode}):\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{name} did not serve {url} in {STARTUP_TIMEOUT_SECONDS} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def page(browser: "Browser", artifacts: Path, request: pytest.FixtureRequest) -> Iterator["Page"]:
    """A fresh page, its last state kept as a screenshot; the UI's pop-up marked as seen."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.add_init_script("window.localStorage.setItem('communityNux', '1')")
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    page.add_locator_handler(page.get_by_role("button", name="Skip"), lambda skip: skip.click())
    yield page
    page.screenshot(path=artifacts / f"{request.node.name}.png")
    context.close()
