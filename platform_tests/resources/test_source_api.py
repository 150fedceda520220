"""The source API client against the real demo API: pages, faults, retries, auth, errors."""

import logging
import math
import multiprocessing
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pyarrow as pa
import pytest

from dataplatform.demo_api import DemoApiConfig, DemoApiServer, FaultConfig
from dataplatform.resources.api_pages import PageReader, SourceApiConfigError, SourceApiError
from dataplatform.resources.source_api import SourceApiClient
from platform_tests.demo_data import DAY, SMALL

FAST_RETRIES = {"backoff_seconds": 0.01, "max_backoff_seconds": 0.05}


@contextmanager
def faulty_api(**faults: object) -> Iterator[DemoApiServer]:
    config = DemoApiConfig(**{**SMALL.__dict__, "faults": FaultConfig(**faults)})
    with DemoApiServer(config) as server:
        yield server


def client(server: DemoApiServer, **settings: object) -> SourceApiClient:
    return SourceApiClient(base_url=server.url, **{**FAST_RETRIES, **settings})


def api_total(server: DemoApiServer, endpoint: str) -> int:
    return httpx.get(f"{server.url}/{endpoint}", params={"day": DAY, "size": 1}).json()["total"]


def test_all_pages_are_fetched_in_parallel_and_match_a_single_page(
    demo_api: DemoApiServer,
) -> None:
    total = api_total(demo_api, "listen_history")

    paged = client(demo_api, page_size=128, concurrency=3).fetch_day("listen_history", DAY)
    whole = client(demo_api, page_size=10_000).fetch_day("listen_history", DAY)

    assert paged.pages == math.ceil(total / 128) > 3 * 2  # several pages per thread
    assert paged.records.num_rows == total
    business = [c for c in whole.records.column_names if not c.startswith("_")]
    assert paged.records.select(business).equals(whole.records.select(business))
    assert paged.records.column("_page").to_pylist() == sorted(
        paged.records.column("_page").to_pylist()
    )


def test_records_are_kept_as_text_exactly_as_given(demo_api: DemoApiServer) -> None:
    records = client(demo_api).fetch_day("listen_history", DAY).records

    assert all(
        records.schema.field(c).type == pa.string()
        for c in records.column_names
        if not c.startswith("_")
    )
    numbers = records.column("ms_played").to_pandas().dropna()
    assert numbers.str.fullmatch(r"-?\d+").mean() > 0.9  # ints arrive as their JSON text
    assert not numbers.str.fullmatch(r"-?\d+").all()  # and the dirty values are kept too


def test_days_filter_the_records(demo_api: DemoApiServer) -> None:
    first = client(demo_api).fetch_day("reviews", DAY).records.column("review_id")
    second = client(demo_api).fetch_day("reviews", "2026-03-05").records.column("review_id")

    assert set(first.to_pylist()).isdisjoint(second.to_pylist())


@pytest.mark.parametrize("kind", ["error", "rate_limit", "truncate"])
def test_transient_faults_below_the_retry_limit_are_retried(
    kind: str, demo_api: DemoApiServer
) -> None:
    with faulty_api(fail_first_attempts=2, fail_first_kind=kind, retry_after_seconds=0.05) as api:
        extract = client(api, page_size=100, max_attempts=3).fetch_day("tracks", DAY)

    assert extract.pages > 1
    assert extract.records.num_rows == api_total(demo_api, "tracks")
    assert extract.retries == 2 * extract.pages


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("error", "HTTP 500"), ("rate_limit", "HTTP 429"), ("truncate", "truncated JSON")],
)
def test_faults_above_the_retry_limit_give_a_clear_error(kind: str, expected: str) -> None:
    faults = {"fail_first_attempts": 3, "fail_first_kind": kind, "retry_after_seconds": 0.05}
    with faulty_api(**faults) as api, pytest.raises(SourceApiError) as raised:
        client(api, max_attempts=3).fetch_day("tracks", DAY)

    message = str(raised.value)
    assert f"GET /tracks day={DAY} page=1" in message
    assert "gave up after 3 attempts" in message
    assert expected in message


def test_slow_responses_time_out_and_are_retried() -> None:
    with faulty_api(fail_first_attempts=1, fail_first_kind="slow", slow_seconds=2.0) as api:
        extract = client(api, timeout_seconds=0.3).fetch_day("tracks", DAY)

    assert extract.retries == extract.pages


def test_retry_after_is_honoured(caplog: pytest.LogCaptureFixture) -> None:
    with (
        faulty_api(
            fail_first_attempts=1, fail_first_kind="rate_limit", retry_after_seconds=0.4
        ) as api,
        caplog.at_level(logging.WARNING),
    ):
        client(api, page_size=10_000).fetch_day("tracks", DAY)

    assert "HTTP 429; retrying in 0.4s" in caplog.text


def test_a_long_retry_after_is_capped_and_the_cap_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        faulty_api(
            fail_first_attempts=1, fail_first_kind="rate_limit", retry_after_seconds=300
        ) as api,
        caplog.at_level(logging.WARNING),
    ):
        extract = client(api, page_size=10_000, max_retry_after_seconds=0.2).fetch_day(
            "tracks", DAY
        )

    assert extract.retries == 1
    assert "HTTP 429; retrying in 0.2s (the server asked 300s)" in caplog.text


def test_retries_are_logged_as_they_happen_even_when_the_extraction_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    faults = {"fail_first_attempts": 3, "fail_first_kind": "error", "retry_after_seconds": 0.05}
    with (
        faulty_api(**faults) as api,
        caplog.at_level(logging.WARNING),
        pytest.raises(SourceApiError),
    ):
        client(api, max_attempts=3).fetch_day("tracks", DAY)

    assert caplog.text.count(f"GET /tracks day={DAY} page=1: HTTP 500; retrying in") == 2


def test_a_page_after_the_first_that_cannot_connect_names_the_last_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reader = client_reader(f"http://127.0.0.1:{port}", max_attempts=2)

    with reader.client() as http, pytest.raises(SourceApiError) as raised:
        reader.read(http, "tracks", DAY, page=2, on_retry=lambda note: None)

    message = str(raised.value)
    assert f"GET /tracks day={DAY} page=2: gave up after 2 attempts; last error:" in message
    assert "onnect" in message.split("last error:")[1]


def client_reader(url: str, **settings: object) -> PageReader:
    return SourceApiClient(base_url=url, **{**FAST_RETRIES, **settings}).page_reader()


def test_token_is_sent_and_its_absence_is_a_configuration_error() -> None:
    config = DemoApiConfig(**{**SMALL.__dict__, "token": "s3cret-token"})
    with DemoApiServer(config) as api:
        assert client(api, token="s3cret-token").fetch_day("tracks", DAY).records.num_rows > 0
        for token in (None, "wrong"):
            with pytest.raises(SourceApiConfigError, match="DATAPLATFORM_API_TOKEN") as raised:
                client(api, token=token).fetch_day("tracks", DAY)
            assert "s3cret-token" not in str(raised.value)


def test_unreachable_api_fails_fast_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    requests = []
    real_get = httpx.Client.get

    def counted_get(self, *args, **kwargs):
        requests.append(args)
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "get", counted_get)
    unreachable = SourceApiClient(base_url="http://127.0.0.1:9", max_attempts=5)

    with pytest.raises(SourceApiConfigError, match="DATAPLATFORM_API_URL"):
        unreachable.fetch_day("tracks", DAY)
    assert len(requests) == 1  # reported at once, not after a minute of backoff


@pytest.mark.parametrize("page_size", [0, 10_001])
def test_bad_page_size_names_the_setting(demo_api: DemoApiServer, page_size: int) -> None:
    with pytest.raises(SourceApiConfigError, match="page_size"):
        client(demo_api, page_size=page_size).fetch_day("tracks", DAY)


def test_unknown_endpoint_is_a_configuration_error(demo_api: DemoApiServer) -> None:
    with pytest.raises(SourceApiConfigError, match="/albums does not exist"):
        client(demo_api).fetch_day("albums", DAY)


def rows_read_in_a_daemonic_process(url: str, results: multiprocessing.Queue) -> None:
    extract = SourceApiClient(base_url=url, page_size=64, concurrency=3).fetch_day(
        "listen_history", DAY
    )
    results.put(extract.records.num_rows)


def test_a_daemonic_process_such_as_a_celery_prefork_worker_extracts_a_whole_day(
    demo_api: DemoApiServer,
) -> None:
    # A daemonic process may not start child processes: pages must be read by threads.
    results = multiprocessing.get_context("spawn").Queue()
    worker = multiprocessing.get_context("spawn").Process(
        target=rows_read_in_a_daemonic_process, args=(demo_api.url, results), daemon=True
    )
    worker.start()
    rows = results.get(timeout=120)
    worker.join(timeout=30)

    assert worker.exitcode == 0
    assert rows == api_total(demo_api, "listen_history")
