"""`make catalog`: the README's browsing commands and the read-only HTTP API over DataHub Lite,
against a catalog file the platform's Lite sink wrote."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataplatform.catalog.metadata import dataset_mcps
from dataplatform.catalog.sink import DataHubSink, Delivery
from dataplatform.settings import SinkKind
from platform_tests.deployment.processes import free_port
from platform_tests.written_tables import written_listens

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
START_SECONDS = 120


def make_catalog(data_dir: Path, args: str) -> list[str]:
    """`make catalog ARGS=...` as the README writes it, on this venv, never reinstalling it."""
    installed = VENV / ".installed"
    return [
        *("make", "-s", "-C", str(REPO), "-o", "install", "-o", str(installed), "catalog"),
        f"VENV={VENV}",
        f"DATAPLATFORM_DATA_DIR={data_dir}",
        f"ARGS={args}",
    ]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder whose catalog holds what the Lite sink wrote for one table."""
    catalog = tmp_path / "catalog"
    sink = DataHubSink(
        kind=SinkKind.LITE,
        lite_path=str(catalog / "datahub_lite.sqlite"),
        spool_dir=str(catalog / "spool"),
    )
    assert sink.emit(dataset_mcps(written_listens(), sink.naming)) == Delivery("sent", "lite")
    return tmp_path


def test_the_readme_listing_shows_the_platform_datasets(data_dir: Path) -> None:
    listing = subprocess.run(
        make_catalog(data_dir, "ls /data_platforms/dagster/instances/default/datasets"),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.split() == ["cleaned.listens"]


def lines_of(process: subprocess.Popen[str]) -> "queue.Queue[str]":
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def wait_for_line(lines: "queue.Queue[str]", marker: str, timeout: float) -> None:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            seen.append(lines.get(timeout=remaining))
        except queue.Empty:
            break
        if marker in seen[-1]:
            return
    pytest.fail(f"no {marker!r} from the server in {timeout:.0f}s:\n{''.join(seen)}")


@pytest.fixture
def catalog_server(data_dir: Path) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        make_catalog(data_dir, f"serve --port {port}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,  # its own process group: make and the server stop together
    )
    try:
        wait_for_line(lines_of(server), "Uvicorn running on", START_SECONDS)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return json.load(response)


def test_the_catalog_server_answers_one_entity_with_its_aspects(catalog_server: str) -> None:
    urn = "urn:li:dataset:(urn:li:dataPlatform:dagster,cleaned.listens,PROD)"
    entity_url = f"{catalog_server}/entities/{urllib.parse.quote(urn, safe='')}"

    entity = get_json(entity_url)
    only_status = get_json(f"{entity_url}?aspects=status")

    assert isinstance(entity, dict)
    assert entity["urn"] == urn
    assert entity["datasetProperties"]["name"] == "cleaned.listens"
    assert [field["fieldPath"] for field in entity["schemaMetadata"]["fields"]][:2] == [
        "listen_id",
        "user_id",
    ]
    assert only_status == {"urn": urn, "status": {"removed": False}}
    listed = get_json(f"{catalog_server}/entities")
    assert isinstance(listed, list) and urn in listed


def test_the_catalog_server_answers_404_for_an_unknown_entity(catalog_server: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as answer:
        get_json(f"{catalog_server}/entities/urn%3Ali%3Adataset%3Anowhere")

    assert answer.value.code == 404
