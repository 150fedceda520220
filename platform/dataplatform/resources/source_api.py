"""HTTP client for the streaming-service source API: paginated, concurrent, retried."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
import httpx
import orjson
import pandas as pd
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

MAX_PAGE_SIZE = 10_000
# The server's Retry-After is obeyed, up to this bound against a misbehaving server.
MAX_RETRY_AFTER_SECONDS = 300.0
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class SourceApiError(RuntimeError):
    """The source API kept failing after every retry."""


class SourceApiConfigError(SourceApiError):
    """The client is misconfigured; the message names the setting to fix."""


class RetryableFailure(Exception):
    """A transient failure worth retrying (status, network or truncated body)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Page:
    items: list[dict]
    pages: int
    nbytes: int


@dataclass(frozen=True)
class Extract:
    """One endpoint-day as returned by the API, with what it took to get it."""

    records: pd.DataFrame
    pages: int
    nbytes: int
    seconds: float
    retries: int


class SourceApiClient(dg.ConfigurableResource):
    """Reads one day of an endpoint, page by page, with bounded concurrency and retries.

    Retries use exponential backoff with jitter and honour `Retry-After`. The token is sent
    as a bearer header only; it never appears in URLs, logs, errors or metadata.
    """

    base_url: str
    token: str | None = None
    page_size: int = 1000
    timeout_seconds: float = 30.0
    concurrency: int = 4
    max_attempts: int = 6
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0

    def fetch_day(self, endpoint: str, day: str) -> Extract:
        self._check_settings()
        started = time.perf_counter()
        retries = _RetryCounter()
        with self._http() as http:
            first = self._first_page(http, endpoint, day, retries)
            later_pages = range(2, first.pages + 1)
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                rest = list(
                    pool.map(
                        lambda page: self._page(http, endpoint, day, page, retries), later_pages
                    )
                )
        pages = [first, *rest]
        return Extract(
            records=records_to_text_frame([page.items for page in pages]),
            pages=len(pages),
            nbytes=sum(page.nbytes for page in pages),
            seconds=time.perf_counter() - started,
            retries=retries.count,
        )

    def _check_settings(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise SourceApiConfigError(
                f"page_size={self.page_size} is out of range 1..{MAX_PAGE_SIZE}:"
                " fix the source_api page_size setting (DATAPLATFORM_API_PAGE_SIZE)"
            )
        if self.concurrency < 1 or self.max_attempts < 1:
            raise SourceApiConfigError(
                "source_api concurrency and max_attempts must be at least 1"
                " (DATAPLATFORM_API_CONCURRENCY, DATAPLATFORM_API_MAX_ATTEMPTS)"
            )

    @contextmanager
    def _http(self) -> Iterator[httpx.Client]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        limits = httpx.Limits(max_connections=self.concurrency)
        try:
            client = httpx.Client(
                base_url=self.base_url, headers=headers, timeout=self.timeout_seconds, limits=limits
            )
        except (httpx.InvalidURL, ValueError) as error:
            raise SourceApiConfigError(
                f"base_url {self.base_url!r} is not a valid URL ({error}):"
                " fix the source_api base_url setting (DATAPLATFORM_API_URL)"
            ) from error
        with client:
            yield client

    def _first_page(
        self, http: httpx.Client, endpoint: str, day: str, retries: _RetryCounter
    ) -> Page:
        try:
            return self._page(http, endpoint, day, 1, retries)
        except httpx.ConnectError as error:
            raise SourceApiConfigError(
                f"cannot reach the source API at {self.base_url} ({error}): is it running?"
                " Otherwise fix the source_api base_url setting (DATAPLATFORM_API_URL)"
            ) from error

    def _page(
        self, http: httpx.Client, endpoint: str, day: str, page: int, retries: _RetryCounter
    ) -> Page:
        where = f"GET /{endpoint} day={day} page={page}"
        retrying = Retrying(
            retry=retry_if_exception_type((RetryableFailure, httpx.TransportError)),
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            before_sleep=lambda state: retries.record(where, state),
            reraise=True,
        )
        try:
            return retrying(self._request_page, http, endpoint, day, page)
        except httpx.ConnectError:
            if page == 1:
                raise
            raise SourceApiError(f"{where}: gave up after {self.max_attempts} attempts") from None
        except (RetryableFailure, httpx.TransportError) as error:
            raise SourceApiError(
                f"{where}: gave up after {self.max_attempts} attempts; last error: {error}"
            ) from error

    def _request_page(self, http: httpx.Client, endpoint: str, day: str, page: int) -> Page:
        response = http.get(
            f"/{endpoint}", params={"day": day, "page": page, "size": self.page_size}
        )
        _raise_for_status(response, endpoint)
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            raise RetryableFailure(f"invalid or truncated JSON body ({error})") from error
        return Page(
            items=body["items"], pages=max(int(body["pages"]), 1), nbytes=len(response.content)
        )

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(
            initial=self.backoff_seconds, max=self.max_backoff_seconds, jitter=self.backoff_seconds
        )(state)
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None) or 0.0
        return max(backoff, min(retry_after, MAX_RETRY_AFTER_SECONDS))


class _RetryCounter:
    """Counts and logs retries across the worker threads of one extraction."""

    def __init__(self) -> None:
        self.count = 0

    def record(self, where: str, state: RetryCallState) -> None:
        self.count += 1
        error = state.outcome.exception() if state.outcome else None
        dg.get_dagster_logger().warning(
            f"{where}: {error}; retrying in {state.upcoming_sleep:.1f}s"
            f" (attempt {state.attempt_number + 1})"
        )


def _raise_for_status(response: httpx.Response, endpoint: str) -> None:
    status = response.status_code
    if status < 400:
        return
    detail = response.text[:200]
    if status in RETRYABLE_STATUS:
        raise RetryableFailure(f"HTTP {status}", retry_after=_retry_after(response))
    if status in (401, 403):
        raise SourceApiConfigError(
            f"the source API refused the credentials (HTTP {status}): set or fix the source_api"
            " token (DATAPLATFORM_API_TOKEN)"
        )
    if status == 404:
        raise SourceApiConfigError(
            f"endpoint /{endpoint} does not exist at {response.request.url.host}: check the"
            " source_api base_url setting (DATAPLATFORM_API_URL)"
        )
    if status == 422:
        raise SourceApiConfigError(
            f"the source API rejected the request parameters (HTTP 422: {detail}): check the"
            " source_api page_size setting (DATAPLATFORM_API_PAGE_SIZE)"
        )
    raise SourceApiError(f"GET /{endpoint}: HTTP {status}: {detail}")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def records_to_text_frame(pages: list[list[dict]]) -> pd.DataFrame:
    """The records exactly as given, every field as text (JSON for non-strings), plus `_page`.

    Raw tables keep the API's values without interpretation: a field that is sometimes a
    number and sometimes "n/a" stays readable, and typing happens in the cleaned layer.
    """
    records = [record for items in pages for record in items]
    columns: dict[str, None] = {}
    last_keys = None
    for record in records:
        if record.keys() != last_keys:
            columns.update(dict.fromkeys(record))
            last_keys = record.keys()
    frame = pd.DataFrame(
        {
            name: pd.array(
                [_as_text(record.get(name)) for record in records], dtype="string[pyarrow]"
            )
            for name in columns
        }
    )
    frame["_page"] = pd.array(
        [page for page, items in enumerate(pages, start=1) for _ in items], dtype="int32"
    )
    frame["_extracted_at"] = pd.Timestamp(datetime.now(UTC))
    return frame


def _as_text(value: object) -> str | None:
    if value is None or type(value) is str:
        return value  # type: ignore[return-value]
    return orjson.dumps(value).decode()
