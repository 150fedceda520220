"""Parsing a page into text columns: every value kept exactly as its JSON text."""

import httpx
import orjson
import pytest

from dataplatform.demo_api import DemoApiServer
from dataplatform.demo_api.endpoints import ENDPOINTS
from dataplatform.resources.api_pages import RetryableFailure, parse_page
from platform_tests.demo_data import DAY


def as_given(value: object) -> str | None:
    """The raw layer's promise: strings as they are, anything else as its JSON text."""
    return value if value is None or isinstance(value, str) else orjson.dumps(value).decode()


def expected_rows(body: bytes) -> list[dict[str, str | None]]:
    items = orjson.loads(body)["items"]
    names = list(dict.fromkeys(name for record in items for name in record))
    return [{name: as_given(record.get(name)) for name in names} for record in items]


def parsed_rows(body: bytes, page: int) -> list[dict[str, str | None]]:
    table, _ = parse_page(body, page)
    assert table.column("_page").to_pylist() == [page] * table.num_rows
    return table.drop_columns(["_page"]).to_pylist()


def page_body(items: list[dict], pages: int = 3) -> bytes:
    return orjson.dumps({"items": items, "total": 30, "page": 1, "size": 10, "pages": pages})


@pytest.mark.parametrize("endpoint", [endpoint.name for endpoint in ENDPOINTS])
def test_demo_api_pages_keep_every_value_as_given(demo_api: DemoApiServer, endpoint: str) -> None:
    body = httpx.get(f"{demo_api.url}/{endpoint}", params={"day": DAY, "size": 500}).content

    assert parsed_rows(body, 1) == expected_rows(body)


@pytest.mark.parametrize(
    "items",
    [
        [{"a": 1, "b": "x"}, {"a": "n/a", "b": None}, {"a": None, "c": True}],  # mixed, missing
        [{"a": 1.5, "b": 2}, {"a": 3, "b": "2"}],  # floats
        [{"a": {"nested": [1, 2]}, "b": "x"}, {"a": "flat", "b": None}],  # nested values
        [{"a": None}, {"a": None}],  # only nulls
        [{"a": 2**63 + 1}, {"a": -5}],  # beyond int64
    ],
    ids=["mixed", "floats", "nested", "nulls", "huge-int"],
)
def test_any_json_values_keep_their_text(items: list[dict]) -> None:
    body = page_body(items)

    assert parsed_rows(body, 2) == expected_rows(body)
    assert parse_page(body, 2)[1] == 3


def test_an_empty_page_has_no_rows_but_reports_the_page_count() -> None:
    table, pages = parse_page(page_body([], pages=0), 1)

    assert table.num_rows == 0
    assert pages == 1


def test_a_truncated_body_is_a_retryable_failure() -> None:
    body = page_body([{"a": 1}, {"a": 2}])

    with pytest.raises(RetryableFailure, match="truncated JSON"):
        parse_page(body[: len(body) // 2], 1)
