"""Caches of generated day tables and serialised pages, so repeated reads cost a bytes lookup."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date

import orjson

from dataplatform.demo_api.config import DemoApiConfig
from dataplatform.demo_api.endpoints import day_table
from dataplatform.demo_api.table import Table

PageKey = tuple[str, date, int, int]


class PageStore:
    """Serves JSON pages of the endpoints' day tables, generating each table once.

    After serving a page it renders the next one in the background, so a client paging
    sequentially finds it ready while it is still busy with the previous one.
    """

    def __init__(
        self,
        config: DemoApiConfig,
        max_tables: int = 8,
        max_page_bytes: int = 512 * 1024 * 1024,
    ) -> None:
        self._config = config
        self._max_tables = max_tables
        self._max_page_bytes = max_page_bytes
        self._tables: OrderedDict[tuple[str, date], Table] = OrderedDict()
        self._pages: OrderedDict[PageKey, bytes] = OrderedDict()
        self._page_bytes = 0
        self._rendering: dict[PageKey, Future[bytes]] = {}
        self._prefetcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-api-prefetch")
        # One lock for generation: concurrent first requests for a day must not build it twice.
        self._table_lock = threading.Lock()
        self._page_lock = threading.Lock()

    def page(self, endpoint: str, day: date, page: int, size: int) -> bytes:
        """The serialised page `{"items", "total", "page", "size", "pages"}`."""
        key = (endpoint, day, page, size)
        table = self.table(endpoint, day)
        with self._page_lock:
            body = self._pages.get(key)
            pending = self._rendering.get(key)
            if body is not None:
                self._pages.move_to_end(key)
        if body is None:
            body = pending.result() if pending else self._render_and_remember(key, table)
        if page * size < table.total:
            self._prefetch((endpoint, day, page + 1, size), table)
        return body

    def table(self, endpoint: str, day: date) -> Table:
        with self._table_lock:
            key = (endpoint, day)
            table = self._tables.get(key)
            if table is None:
                table = self._tables[key] = day_table(self._config, endpoint, day)
                if len(self._tables) > self._max_tables:
                    self._tables.popitem(last=False)
            self._tables.move_to_end(key)
            return table

    def _prefetch(self, key: PageKey, table: Table) -> None:
        with self._page_lock:
            if key in self._pages or key in self._rendering:
                return
            self._rendering[key] = self._prefetcher.submit(self._render_and_remember, key, table)

    def _render_and_remember(self, key: PageKey, table: Table) -> bytes:
        _, _, page, size = key
        try:
            body = _serialise_page(table, page, size)
            with self._page_lock:
                self._remember(key, body)
        finally:
            with self._page_lock:
                self._rendering.pop(key, None)
        return body

    def _remember(self, key: PageKey, body: bytes) -> None:
        previous = self._pages.pop(key, None)
        self._page_bytes += len(body) - (len(previous) if previous is not None else 0)
        self._pages[key] = body
        while self._page_bytes > self._max_page_bytes:
            _, evicted = self._pages.popitem(last=False)
            self._page_bytes -= len(evicted)


def _serialise_page(table: Table, page: int, size: int) -> bytes:
    start = (page - 1) * size
    items = table.rows(start, start + size) if start < table.total else []
    pages = math.ceil(table.total / size)
    payload = {"items": items, "total": table.total, "page": page, "size": size, "pages": pages}
    return orjson.dumps(payload)
