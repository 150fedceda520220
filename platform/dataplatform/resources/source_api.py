"""The source API resource: one day of an endpoint, read in parallel, retried, as Arrow."""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import dagster as dg
import numpy as np
import pyarrow as pa

from dataplatform.resources.api_pages import PageReader, PagesRead, SourceApiConfigError

MAX_PAGE_SIZE = 10_000
# Below this many pages per worker, starting a process costs more than it saves.
MIN_PAGES_PER_WORKER = 4


@dataclass(frozen=True)
class Extract:
    """One endpoint-day as returned by the API, with what it took to get it."""

    records: pa.Table
    pages: int
    nbytes: int
    seconds: float
    retries: int


class SourceApiClient(dg.ConfigurableResource):
    """Reads one day of an endpoint: the first page, then the rest in parallel processes.

    Parsing JSON into records is CPU-bound Python work, so parallel reads use processes, not
    threads: `concurrency` readers (this process and `concurrency - 1` workers), each reading
    a contiguous block of pages. Retries
    use exponential backoff with jitter and honour `Retry-After`. The token is sent as a
    bearer header only; it never appears in URLs, logs, errors or metadata.
    """

    base_url: str
    token: str | None = None
    page_size: int = 1000
    timeout_seconds: float = 30.0
    concurrency: int = 2
    max_attempts: int = 6
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0

    def fetch_day(self, endpoint: str, day: str) -> Extract:
        self._check_settings()
        started = time.perf_counter()
        reader = self._reader()
        first = reader.read(endpoint, day, [1])
        reads = [first, *self._read_rest(reader, endpoint, day, first.total_pages)]
        for note in (note for read in reads for note in read.retries):
            dg.get_dagster_logger().warning(note)
        records = pa.concat_tables([read.records for read in reads], promote_options="default")
        return Extract(
            records=_with_extraction_time(records),
            pages=first.total_pages,
            nbytes=sum(read.nbytes for read in reads),
            seconds=time.perf_counter() - started,
            retries=sum(len(read.retries) for read in reads),
        )

    def _read_rest(
        self, reader: PageReader, endpoint: str, day: str, total_pages: int
    ) -> list[PagesRead]:
        rest = np.arange(2, total_pages + 1)
        workers = min(self.concurrency, len(rest) // MIN_PAGES_PER_WORKER)
        # A daemonic process (e.g. a Celery prefork worker) may not start children.
        if workers <= 1 or multiprocessing.current_process().daemon:
            return [reader.read(endpoint, day, rest.tolist())]
        own, *others = [block.tolist() for block in np.array_split(rest, workers)]
        # This process reads the first block itself while the workers read the others.
        with ProcessPoolExecutor(len(others), mp_context=_worker_context()) as pool:
            later = pool.map(partial(reader.read, endpoint, day), others)
            return [reader.read(endpoint, day, own), *later]

    def _reader(self) -> PageReader:
        return PageReader(
            base_url=self.base_url,
            token=self.token,
            page_size=self.page_size,
            timeout_seconds=self.timeout_seconds,
            max_attempts=self.max_attempts,
            backoff_seconds=self.backoff_seconds,
            max_backoff_seconds=self.max_backoff_seconds,
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


def _worker_context() -> multiprocessing.context.BaseContext:
    """Workers fork from a server that imported only the page reader.

    Not plain fork: the calling process (a Dagster step) runs threads. Not spawn: it
    re-imports the caller's main module (Dagster itself) in every worker.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([PageReader.__module__])
    return context


def _with_extraction_time(records: pa.Table) -> pa.Table:
    now = np.datetime64(datetime.now(UTC).replace(tzinfo=None), "us")
    extracted_at = pa.array(np.full(records.num_rows, now), pa.timestamp("us", tz="UTC"))
    return records.append_column("_extracted_at", extracted_at)
