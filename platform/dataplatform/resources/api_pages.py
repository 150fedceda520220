"""Reading pages of the source API into Arrow tables, with retries.

Kept free of Dagster so that the worker processes reading pages in parallel start quickly.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter

import httpx
import numpy as np
import orjson
import pyarrow as pa
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# The server's Retry-After is obeyed, up to this bound against a misbehaving server.
MAX_RETRY_AFTER_SECONDS = 300.0


class SourceApiError(RuntimeError):
    """The source API kept failing after every retry."""


class SourceApiConfigError(SourceApiError):
    """The client is misconfigured; the message names the setting to fix."""


class RetryableFailure(Exception):
    """A transient failure worth retrying (status, network or truncated body)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass
class PagesRead:
    """Consecutive pages as one table, the page count the API reported, and the retries."""

    records: pa.Table
    total_pages: int
    nbytes: int
    retries: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PageReader:
    """Reads pages one after another; picklable, so a worker process can run it."""

    base_url: str
    token: str | None
    page_size: int
    timeout_seconds: float
    max_attempts: int
    backoff_seconds: float
    max_backoff_seconds: float

    def read(self, endpoint: str, day: str, pages: Sequence[int]) -> PagesRead:
        retries: list[str] = []
        tables, nbytes, total_pages = [], 0, 1
        with _cyclic_gc_paused(), self._http() as http:
            for page in pages:
                table, size, total_pages = self._page(http, endpoint, day, page, retries)
                tables.append(table)
                nbytes += size
        records = pa.concat_tables(tables, promote_options="default") if tables else pa.table({})
        return PagesRead(records, total_pages, nbytes, retries)

    def _http(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            return httpx.Client(
                base_url=self.base_url, headers=headers, timeout=self.timeout_seconds
            )
        except (httpx.InvalidURL, ValueError) as error:
            raise SourceApiConfigError(
                f"base_url {self.base_url!r} is not a valid URL ({error}):"
                " fix the source_api base_url setting (DATAPLATFORM_API_URL)"
            ) from error

    def _page(
        self, http: httpx.Client, endpoint: str, day: str, page: int, retries: list[str]
    ) -> tuple[pa.Table, int, int]:
        where = f"GET /{endpoint} day={day} page={page}"
        retrying = Retrying(
            retry=retry_if_exception(partial(_is_transient, first_page=page == 1)),
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            before_sleep=lambda state: retries.append(_retry_note(where, state)),
            reraise=True,
        )
        try:
            return retrying(self._request_page, http, endpoint, day, page)
        except httpx.ConnectError as error:
            if page == 1:
                raise SourceApiConfigError(
                    f"cannot reach the source API at {self.base_url} ({error}): is it running?"
                    " Otherwise fix the source_api base_url setting (DATAPLATFORM_API_URL)"
                ) from None
            raise SourceApiError(f"{where}: gave up after {self.max_attempts} attempts") from None
        except (RetryableFailure, httpx.TransportError) as error:
            raise SourceApiError(
                f"{where}: gave up after {self.max_attempts} attempts; last error: {error}"
            ) from None

    def _request_page(
        self, http: httpx.Client, endpoint: str, day: str, page: int
    ) -> tuple[pa.Table, int, int]:
        params = {"day": day, "page": page, "size": self.page_size}
        response = http.get(f"/{endpoint}", params=params)
        _raise_for_status(response, endpoint)
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            raise RetryableFailure(f"invalid or truncated JSON body ({error})") from error
        table = page_to_text_table(body["items"], page)
        return table, len(response.content), max(int(body["pages"]), 1)

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(
            initial=self.backoff_seconds, max=self.max_backoff_seconds, jitter=self.backoff_seconds
        )(state)
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None) or 0.0
        return max(backoff, min(retry_after, MAX_RETRY_AFTER_SECONDS))


def _is_transient(error: BaseException, first_page: bool) -> bool:
    """Worth retrying; except that an API unreachable on the very first request is a
    misconfiguration, reported at once rather than after a minute of backoff."""
    if first_page and isinstance(error, httpx.ConnectError):
        return False
    return isinstance(error, RetryableFailure | httpx.TransportError)


def _retry_note(where: str, state: RetryCallState) -> str:
    error = state.outcome.exception() if state.outcome else None
    return (
        f"{where}: {error}; retrying in {state.upcoming_sleep:.1f}s"
        f" (attempt {state.attempt_number + 1})"
    )


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Parsing a page makes ~100k short-lived dicts at once; without this, the cyclic
    collector rescans them over and over and parsing takes about three times as long.
    Nothing here builds reference cycles, so reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


def page_to_text_table(items: list[dict], page: int) -> pa.Table:
    """One page's records exactly as given, every field as text, plus the page number.

    Raw tables keep the API's values without interpretation: a field that is sometimes a
    number and sometimes "n/a" stays readable (JSON text for non-strings), and typing
    happens in the cleaned layer.
    """
    names: dict[str, None] = {}
    last_keys = None
    for record in items:
        if record.keys() != last_keys:
            names.update(dict.fromkeys(record))
            last_keys = record.keys()
    columns = {name: _text_array(_field_values(items, name)) for name in names}
    columns["_page"] = pa.array(np.full(len(items), page, dtype=np.int32))
    return pa.table(columns)


def _field_values(items: list[dict], name: str) -> list[object]:
    try:
        return list(map(itemgetter(name), items))  # about twice as fast as .get in a loop
    except KeyError:
        return [record.get(name) for record in items]


def _text_array(values: list[object]) -> pa.Array:
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = None  # mixed types: the dirty columns
    if array is not None and (
        pa.types.is_string(array.type)
        or pa.types.is_null(array.type)
        or pa.types.is_integer(array.type)
        or pa.types.is_boolean(array.type)
    ):
        return array.cast(pa.string())  # the same text as JSON for these types
    # Inline rather than a function per value: this is the hot loop of dirty columns.
    texts = [
        value
        if value is None or type(value) is str
        else str(value)
        if type(value) is int
        else orjson.dumps(value).decode()
        for value in values
    ]
    return pa.array(texts, type=pa.string())
