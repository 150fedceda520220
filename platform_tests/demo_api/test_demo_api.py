"""End-to-end tests of the demo source API against a real uvicorn server on loopback."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from dataplatform.demo_api import DemoApiConfig, DemoApiServer, FaultConfig, true_entity_ids
from dataplatform.demo_api.endpoints import ENDPOINTS, Endpoint, day_table
from dataplatform.demo_api.vocab import NICKNAMES
from platform_tests.demo_data import SMALL

START = date(2026, 1, 1)
DAY = date(2026, 1, 5)
FIELDS = {
    "users": {
        "user_id", "first_name", "last_name", "email", "date_of_birth", "street", "city",
        "country", "phone", "signup_at", "updated_at",
    },
    "tracks": {
        "track_id", "title", "artist", "album", "genre", "duration_ms", "release_date",
        "popularity", "updated_at",
    },
    "listen_history": {"listen_id", "user_id", "track_id", "listened_at", "ms_played", "device"},
    "reviews": {"review_id", "user_id", "track_id", "rating", "text", "created_at"},
    "playlists": {"playlist_id", "user_id", "name", "is_public", "track_ids", "updated_at"},
}  # fmt: skip
DAY_STAMP_FIELD = {
    "users": "updated_at",
    "tracks": "updated_at",
    "listen_history": "listened_at",
    "reviews": "created_at",
    "playlists": "updated_at",
}


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    with DemoApiServer(DemoApiConfig()) as server, _client(server) as client:
        yield client


def _client(server: DemoApiServer, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=server.url, trust_env=False, timeout=30.0, **kwargs)


def _page(client: httpx.Client, endpoint: str, day: date, page: int = 1, size: int = 1000) -> Any:
    response = client.get(
        f"/{endpoint}", params={"day": day.isoformat(), "page": page, "size": size}
    )
    response.raise_for_status()
    return response.json()


def _all_items(client: httpx.Client, endpoint: str, day: date) -> list[dict[str, Any]]:
    first = _page(client, endpoint, day, size=10_000)
    items = list(first["items"])
    for page in range(2, first["pages"] + 1):
        items += _page(client, endpoint, day, page=page, size=10_000)["items"]
    return items


@contextmanager
def _module_process(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run `python -m dataplatform.demo_api` and yield the URL it prints; it must stop cleanly."""
    command = [sys.executable, "-m", "dataplatform.demo_api", "--port", "0", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("DEMO_API_URL=http://127.0.0.1:")
        yield line.removeprefix("DEMO_API_URL=")
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0


def _ints(items: list[dict[str, Any]], field: str) -> set[int]:
    return {item[field] for item in items if type(item[field]) is int}


def test_same_seed_gives_identical_pages_and_another_seed_differs(api: httpx.Client) -> None:
    # A separate process shares no caches with this one and has another str hash seed.
    with (
        _module_process("--seed", "42") as url,
        httpx.Client(base_url=url, trust_env=False) as twin,
    ):
        for endpoint in FIELDS:
            params = {"day": DAY.isoformat(), "page": 2, "size": 100}
            ours, theirs = (
                api.get(f"/{endpoint}", params=params),
                twin.get(f"/{endpoint}", params=params),
            )
            assert ours.status_code == 200 and ours.content == theirs.content
    with DemoApiServer(DemoApiConfig(seed=7)) as other, _client(other) as other_client:
        assert _page(api, "users", DAY) != _page(other_client, "users", DAY)
        assert _page(api, "listen_history", DAY) != _page(other_client, "listen_history", DAY)


def test_every_registered_endpoint_is_served_and_has_its_contract_here(
    api: httpx.Client,
) -> None:
    names = {endpoint.name for endpoint in ENDPOINTS}
    assert set(FIELDS) == set(DAY_STAMP_FIELD) == names  # a new endpoint states its contract
    paths = api.get("/openapi.json").json()["paths"]
    assert set(paths) == {"/health", *(f"/{name}" for name in names)}
    for endpoint in ENDPOINTS:
        assert paths[f"/{endpoint.name}"]["get"]["description"] == endpoint.description
        assert _page(api, endpoint.name, DAY, size=10)["total"] > 0


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.name)
def test_each_endpoints_volume_knob_sets_its_volume(endpoint: Endpoint) -> None:
    day = SMALL.start_date + timedelta(days=3)
    knob, volume = endpoint.volume.knob, endpoint.volume.of(SMALL)
    if endpoint.volume.default is None:
        bigger = replace(SMALL, **{knob: 2 * volume})
    else:
        bigger = replace(SMALL, volumes={knob: 2 * volume})
    assert day_table(bigger, endpoint.name, day).total > day_table(SMALL, endpoint.name, day).total


def test_every_endpoint_returns_exactly_the_contract_fields(api: httpx.Client) -> None:
    for endpoint, fields in FIELDS.items():
        body = _page(api, endpoint, DAY, size=50)
        assert set(body) == {"items", "total", "page", "size", "pages"}
        assert all(set(item) == fields for item in body["items"])


def test_pages_add_up_to_total_in_a_stable_order(api: httpx.Client) -> None:
    first = _page(api, "listen_history", DAY, size=1000)
    pages = [
        _page(api, "listen_history", DAY, page=p, size=1000) for p in range(1, first["pages"] + 1)
    ]
    items = [item for page in pages for item in page["items"]]
    assert first["total"] > 5000
    assert first["pages"] == -(-first["total"] // 1000)
    assert len(items) == first["total"]
    assert items == _all_items(api, "listen_history", DAY)
    past_end = _page(api, "listen_history", DAY, page=first["pages"] + 1, size=1000)
    assert past_end["items"] == [] and past_end["total"] == first["total"]


@pytest.mark.parametrize(
    "params",
    [{"size": 10_001}, {"size": 0}, {"page": 0}, {"day": "2026-13-01"}, {"day": None}],
)
def test_invalid_parameters_are_rejected_with_422(api: httpx.Client, params: dict) -> None:
    query = {"day": DAY.isoformat(), **params}
    response = api.get("/tracks", params={k: v for k, v in query.items() if v is not None})
    assert response.status_code == 422


def test_each_day_has_its_own_records_and_none_before_the_start(api: httpx.Client) -> None:
    for endpoint, stamp in DAY_STAMP_FIELD.items():
        items = _page(api, endpoint, DAY, size=500)["items"]
        stamps = [item[stamp] for item in items if isinstance(item[stamp], str)]
        assert sum(value.startswith(DAY.isoformat()) for value in stamps) > 0.9 * len(items)
        assert _page(api, endpoint, DAY) != _page(api, endpoint, DAY + timedelta(days=1))
        assert _page(api, endpoint, START - timedelta(days=1))["total"] == 0
    initial_users = _page(api, "users", START, size=1)["total"]
    assert initial_users >= DemoApiConfig().initial_users


def test_listens_reference_the_days_users_and_tracks_except_few_orphans() -> None:
    config = DemoApiConfig.scaled(40_000, dirty_rate=0.0)
    with DemoApiServer(config) as server, _client(server) as client:
        listens = _all_items(client, "listen_history", DAY)
        reviews = _all_items(client, "reviews", DAY)
        users = _ints(_all_items(client, "users", DAY), "user_id")
        tracks = _ints(_all_items(client, "tracks", DAY), "track_id")
    assert len(listens) == 40_000
    orphans = [
        item for item in listens if item["user_id"] not in users or item["track_id"] not in tracks
    ]
    assert 0 < len(orphans) < 0.01 * len(listens)
    orphaned_ids = {item["user_id"] for item in orphans} | {item["track_id"] for item in orphans}
    assert {item["user_id"] for item in reviews} - users <= orphaned_ids
    assert {item["track_id"] for item in reviews} - tracks <= orphaned_ids


def test_payloads_contain_every_kind_of_dirt(api: httpx.Client) -> None:
    days = [DAY + timedelta(days=offset) for offset in range(4)]
    items = {
        endpoint: [row for day in days for row in _all_items(api, endpoint, day)]
        for endpoint in FIELDS
    }
    for endpoint, rows in items.items():
        counts = Counter(json.dumps(row, sort_keys=True) for row in rows)
        assert any(count > 1 for count in counts.values()), f"no duplicate rows in {endpoint}"
        assert any(value is None for row in rows for value in row.values()), endpoint
        assert any(
            isinstance(value, str) and value != value.strip()
            for row in rows
            for value in row.values()
        ), f"no stray whitespace in {endpoint}"
    assert any(row["ms_played"] in ("n/a", "NaN") or isinstance(row["ms_played"], str)
               for row in items["listen_history"])  # fmt: skip
    assert any(isinstance(row["rating"], str) for row in items["reviews"])
    assert any(isinstance(row["duration_ms"], str) and ":" in row["duration_ms"]
               for row in items["tracks"])  # fmt: skip
    assert any(isinstance(row["user_id"], str) for row in items["listen_history"])
    clean_ratings = [row["rating"] for row in items["reviews"] if isinstance(row["rating"], int)]
    assert set(clean_ratings) == {1, 2, 3, 4, 5}
    playlists = items["playlists"]
    assert {row["is_public"] for row in playlists} >= {True, False, None}
    assert any(isinstance(row["is_public"], str) for row in playlists)  # "yes", "N", ...
    assert any(isinstance(row["track_ids"], str) for row in playlists)  # "12,7,30"
    lists = [row["track_ids"] for row in playlists if isinstance(row["track_ids"], list)]
    assert [] in lists and all(len(set(tracks)) == len(tracks) for tracks in lists)


def test_duplicate_persons_map_to_a_root_with_similar_details(api: httpx.Client) -> None:
    config = DemoApiConfig()
    users = {}
    for offset in range(0, 15):
        for row in _all_items(api, "users", START + timedelta(days=offset)):
            if type(row["user_id"]) is int and isinstance(row["first_name"], str):
                users.setdefault(row["user_id"], row)
    ids = sorted(users)
    roots = dict(zip(ids, true_entity_ids(config, ids).tolist(), strict=True))
    pairs = [
        (users[user], users[root]) for user, root in roots.items() if root != user and root in users
    ]
    assert len(pairs) >= 10
    assert all(root < user for user, root in roots.items() if root != user)
    root_ids = sorted(set(roots.values()))
    assert true_entity_ids(config, root_ids).tolist() == root_ids
    similar = [pair for pair in pairs if _same_person_likely(*pair)]
    assert len(similar) >= 0.8 * len(pairs)
    assert any(
        a["email"].strip().lower() != b["email"].strip().lower()
        for a, b in pairs
        if a["email"] and b["email"]
    )


def _same_person_likely(duplicate: dict[str, Any], root: dict[str, Any]) -> bool:
    nicknames = {frozenset(pair) for pair in NICKNAMES}

    def name(row: dict[str, Any], field: str) -> str:
        return (row[field] or "").strip().lower()

    first_a, first_b = name(duplicate, "first_name"), name(root, "first_name")
    firsts_match = (
        difflib.SequenceMatcher(None, first_a, first_b).ratio() >= 0.7
        or frozenset((first_a.title(), first_b.title())) in nicknames
    )
    lasts = difflib.SequenceMatcher(None, name(duplicate, "last_name"), name(root, "last_name"))
    return firsts_match and lasts.ratio() >= 0.7


def test_bearer_token_is_required_and_never_echoed() -> None:
    token = "s3cret-token-value"
    with DemoApiServer(DemoApiConfig(token=token)) as server, _client(server) as client:
        params = {"day": DAY.isoformat(), "size": 5}
        missing = client.get("/reviews", params=params)
        wrong = client.get("/reviews", params=params, headers={"Authorization": "Bearer nope"})
        right = client.get("/reviews", params=params, headers={"Authorization": f"Bearer {token}"})
        assert client.get("/health").status_code == 200
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["detail"]
        assert token not in response.text
    assert right.status_code == 200 and len(right.json()["items"]) == 5


@pytest.mark.parametrize(
    ("faults", "status"),
    [
        (FaultConfig(error_rate=1.0), 500),
        (FaultConfig(rate_limit_rate=1.0, retry_after_seconds=2.0), 429),
        (FaultConfig(truncate_rate=1.0), 200),
        (FaultConfig(slow_rate=1.0, slow_seconds=0.3), 200),
    ],
)
def test_injected_faults(faults: FaultConfig, status: int) -> None:
    with DemoApiServer(DemoApiConfig(faults=faults)) as server, _client(server) as client:
        assert client.get("/health").json() == {"status": "ok"}
        started = time.monotonic()
        response = client.get("/tracks", params={"day": DAY.isoformat(), "size": 50})
        elapsed = time.monotonic() - started
    assert response.status_code == status
    if faults.rate_limit_rate:
        assert response.headers["Retry-After"] == "2"
    if faults.truncate_rate:
        assert int(response.headers["Content-Length"]) == len(response.content)
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)
    if faults.slow_rate:
        assert elapsed >= 0.3 and len(response.json()["items"]) == 50


def test_fail_first_attempts_fails_each_url_that_often_then_succeeds() -> None:
    config = DemoApiConfig(faults=FaultConfig(fail_first_attempts=2))
    with DemoApiServer(config) as server, _client(server) as client:
        first_url = [
            client.get("/users", params={"day": DAY.isoformat()}).status_code for _ in range(4)
        ]
        other_url = [
            client.get("/users", params={"day": START.isoformat()}).status_code for _ in range(3)
        ]
    assert first_url == [500, 500, 200, 200]
    assert other_url == [500, 500, 200]


def test_module_entry_point_prints_its_url_and_serves() -> None:
    environment = {**os.environ, "DATAPLATFORM_API_TOKEN": "from-env"}
    args = ("--seed", "3", "--listens-per-day", "2000", "--start-date", "2026-02-01")
    with _module_process(*args, env=environment) as url:
        headers = {"Authorization": "Bearer from-env"}
        with httpx.Client(base_url=url, trust_env=False, headers=headers) as client:
            body = client.get("/listen_history", params={"day": "2026-02-01", "size": 10}).json()
    assert body["total"] >= 2000 and len(body["items"]) == 10
