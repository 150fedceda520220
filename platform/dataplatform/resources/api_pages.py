"""Reading pages of the source API into Arrow tables, with retries."""

from __future__ import annotations

import gc
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from operator import itemgetter

import httpx
import numpy as np
import orjson
import polars as pl
import pyarrow as pa
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

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
    """One page's records, its size on the wire and the page count the API reported."""

    records: pa.Table
    nbytes: int
    total_pages: int


@dataclass(frozen=True)
class PageReader:
    """Reads single pages with retries; one reader serves every thread of an extraction."""

    base_url: str
    token: str | None
    page_size: int
    timeout_seconds: float
    max_attempts: int
    backoff_seconds: float
    max_backoff_seconds: float
    # The server's Retry-After is obeyed up to this bound, against a misbehaving server.
    max_retry_after_seconds: float

    def client(self) -> httpx.Client:
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

    def read(
        self,
        http: httpx.Client,
        endpoint: str,
        day: str,
        page: int,
        on_retry: Callable[[str], None],
    ) -> Page:
        """The page, retried on transient failures; `on_retry` hears of each retry before
        its wait."""
        where = f"GET /{endpoint} day={day} page={page}"
        retrying = Retrying(
            retry=retry_if_exception(partial(_is_transient, first_page=page == 1)),
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            before_sleep=lambda state: on_retry(_retry_note(where, state)),
            reraise=True,
        )
        try:
            return retrying(self._request_page, http, endpoint, day, page)
        except (RetryableFailure, httpx.TransportError) as error:
            if page == 1 and isinstance(error, httpx.ConnectError):
                raise SourceApiConfigError(
                    f"cannot reach the source API at {self.base_url} ({error}): is it running?"
                    " Otherwise fix the source_api base_url setting (DATAPLATFORM_API_URL)"
                ) from None
            raise SourceApiError(
                f"{where}: gave up after {self.max_attempts} attempts; last error: {error}"
            ) from None

    def _request_page(self, http: httpx.Client, endpoint: str, day: str, page: int) -> Page:
        params = {"day": day, "page": page, "size": self.page_size}
        response = http.get(f"/{endpoint}", params=params)
        _raise_for_status(response, endpoint)
        records, total_pages = parse_page(response.content, page)
        return Page(records, len(response.content), total_pages)

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(
            initial=self.backoff_seconds, max=self.max_backoff_seconds, jitter=self.backoff_seconds
        )(state)
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None) or 0.0
        return max(backoff, min(retry_after, self.max_retry_after_seconds))


def _is_transient(error: BaseException, first_page: bool) -> bool:
    """Worth retrying; except that an API unreachable on the very first request is a
    misconfiguration, reported at once rather than after a minute of backoff."""
    if first_page and isinstance(error, httpx.ConnectError):
        return False
    return isinstance(error, RetryableFailure | httpx.TransportError)


def _retry_note(where: str, state: RetryCallState) -> str:
    error = state.outcome.exception() if state.outcome else None
    asked = getattr(error, "retry_after", None) or 0.0
    capped = f" (the server asked {asked:.0f}s)" if asked > state.upcoming_sleep else ""
    return (
        f"{where}: {error}; retrying in {state.upcoming_sleep:.1f}s{capped}"
        f" (attempt {state.attempt_number + 1})"
    )


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """A page that takes the exact path (`_parse_page_objects`) makes ~100k short-lived
    dicts at once; without this, the cyclic collector rescans them over and over and that
    parse takes about three times as long. Nothing here builds reference cycles, so
    reference counting still frees everything."""
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


def parse_page(body: bytes, page: int) -> tuple[pa.Table, int]:
    """One page's records exactly as given, every field as text, plus the page number; and
    the page count the API reports.

    Raw tables keep the API's values without interpretation: a field that is sometimes a
    number and sometimes "n/a" stays readable (JSON text for non-strings), and typing
    happens in the cleaned layer. Polars parses the usual pages (flat records of strings,
    integers, booleans and nulls) without making a Python object per value and releases the
    GIL meanwhile, so threads read pages in parallel; anything else (floats, nested values,
    empty or invalid bodies) takes the exact, slower path through Python objects.
    """
    try:
        frame = pl.read_json(io.BytesIO(body), infer_schema_length=None)
    except pl.exceptions.PolarsError:
        frame = None
    if frame is not None and _is_flat_text_page(frame):
        records = frame.select(pl.col("items").explode()).unnest("items")
        table = records.select(pl.all().cast(pl.String)).to_arrow()
        table = table.cast(pa.schema([(name, pa.string()) for name in table.column_names]))
        total_pages = frame["pages"].item()
    else:
        table, total_pages = _parse_page_objects(body)
    page_numbers = pa.array(np.full(table.num_rows, page, dtype=np.int32))
    return table.append_column("_page", page_numbers), max(int(total_pages), 1)


# Their text as polars writes it is their JSON text.
_JSON_TEXT_TYPES = (pl.String, pl.Int64, pl.Boolean, pl.Null)


def _is_flat_text_page(frame: pl.DataFrame) -> bool:
    items = frame.schema.get("items")
    if not (isinstance(items, pl.List) and isinstance(items.inner, pl.Struct) and "pages" in frame):
        return False
    fields = items.inner.fields
    return bool(fields) and all(field.dtype in _JSON_TEXT_TYPES for field in fields)


def _parse_page_objects(body: bytes) -> tuple[pa.Table, int]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise RetryableFailure(f"invalid or truncated JSON body ({error})") from error
    items = payload["items"]
    names: dict[str, None] = {}
    last_keys = None
    for record in items:
        if record.keys() != last_keys:
            names.update(dict.fromkeys(record))
            last_keys = record.keys()
    columns = {name: _text_array(_field_values(items, name)) for name in names}
    return pa.table(columns), payload["pages"]


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
    return pa.array(raw_texts(values), type=pa.string())


def raw_texts(values: Sequence[object]) -> list[str | None]:
    """Each value as the raw layer keeps it: strings as they are, the rest as JSON text."""
    # One comprehension, no call per value: this is the hot loop of dirty columns.
    return [
        value
        if value is None or type(value) is str
        else str(value)
        if type(value) is int
        else orjson.dumps(value).decode()
        for value in values
    ]
