"""The source API resource: one day of an endpoint, read in parallel, retried, as Arrow."""

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import dagster as dg
import numpy as np
import pyarrow as pa

from dataplatform.resources.api_pages import (
    Page,
    PageReader,
    SourceApiConfigError,
    cyclic_gc_paused,
)

MAX_PAGE_SIZE = 10_000


@dataclass(frozen=True)
class Extract:
    """One endpoint-day as returned by the API, with what it took to get it."""

    records: pa.Table
    pages: int
    nbytes: int
    seconds: float
    retries: int


class SourceApiClient(dg.ConfigurableResource):
    """Reads one day of an endpoint: the first page, then the rest on `concurrency` threads.

    Threads run in parallel because parsing a page happens in polars, outside the GIL (see
    `parse_page`). Retries use exponential backoff with jitter and honour `Retry-After` up to
    `max_retry_after_seconds`; each is logged as it happens. The token is sent as a bearer
    header only; it never appears in URLs, logs, errors or metadata.
    """

    base_url: str
    token: str | None = None
    page_size: int = 1000
    timeout_seconds: float = 30.0
    concurrency: int = 2
    max_attempts: int = 6
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0
    max_retry_after_seconds: float = 60.0

    def fetch_day(self, endpoint: str, day: str) -> Extract:
        self._check_settings()
        started = time.perf_counter()
        reader = self.page_reader()
        retries = RetryLog()
        with reader.client() as http, cyclic_gc_paused():
            read = partial(reader.read, http, endpoint, day, on_retry=retries.record)
            first = read(1)
            pages = [first, *self._read_rest(read, first.total_pages)]
        records = pa.concat_tables([page.records for page in pages], promote_options="default")
        return Extract(
            records=_with_extraction_time(records),
            pages=first.total_pages,
            nbytes=sum(page.nbytes for page in pages),
            seconds=time.perf_counter() - started,
            retries=retries.count,
        )

    def _read_rest(self, read: Callable[[int], Page], total_pages: int) -> list[Page]:
        """Pages 2..total_pages in order; the first failure cancels the pages not started."""
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="source-api") as pool:
            try:
                return list(pool.map(read, range(2, total_pages + 1)))
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise

    def page_reader(self) -> PageReader:
        return PageReader(
            base_url=self.base_url,
            token=self.token,
            page_size=self.page_size,
            timeout_seconds=self.timeout_seconds,
            max_attempts=self.max_attempts,
            backoff_seconds=self.backoff_seconds,
            max_backoff_seconds=self.max_backoff_seconds,
            max_retry_after_seconds=self.max_retry_after_seconds,
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


class RetryLog:
    """Logs each retry as it happens, from whichever thread reads the page, and counts them."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def record(self, note: str) -> None:
        with self._lock:
            self.count += 1
        dg.get_dagster_logger().warning(note)


def _with_extraction_time(records: pa.Table) -> pa.Table:
    now = np.datetime64(datetime.now(UTC).replace(tzinfo=None), "us")
    extracted_at = pa.array(np.full(records.num_rows, now), pa.timestamp("us", tz="UTC"))
    return records.append_column("_extracted_at", extracted_at)
