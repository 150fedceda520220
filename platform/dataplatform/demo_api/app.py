"""The demo music-streaming REST API: paged daily extracts with optional auth and faults."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response

from dataplatform.demo_api.config import DemoApiConfig
from dataplatform.demo_api.endpoints import ENDPOINTS
from dataplatform.demo_api.faults import FaultInjector
from dataplatform.demo_api.store import PageStore

MAX_PAGE_SIZE = 10_000
DEFAULT_PAGE_SIZE = 1_000


def create_app(config: DemoApiConfig | None = None) -> FastAPI:
    """Build the API; all data is a pure function of the config."""
    config = config or DemoApiConfig()
    store = PageStore(config)
    injector = FaultInjector(config.faults, config.seed)
    app = FastAPI(title="Demo music streaming API", version="1.0")
    app.add_api_route("/health", _health, methods=["GET"])
    guard = [Depends(_token_guard(config.token))]
    for endpoint in ENDPOINTS:
        app.add_api_route(
            f"/{endpoint.name}",
            _page_handler(endpoint.name, config, store, injector),
            methods=["GET"],
            name=endpoint.name,
            description=endpoint.description,
            dependencies=guard,
        )
    return app


async def _health() -> Response:
    return _json({"status": "ok"})


def _token_guard(token: str | None) -> Callable[..., Any]:
    """A dependency that rejects requests without the bearer token (when one is configured)."""
    expected = f"Bearer {token}".encode()

    # Async so it runs before (and independently of) the handler's parameter validation.
    async def require_token(authorization: Annotated[str | None, Header()] = None) -> None:
        if token is None:
            return
        presented = (authorization or "").encode()
        if not secrets.compare_digest(presented, expected):
            raise HTTPException(
                status_code=401,
                detail="Missing or invalid bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return require_token


def _page_handler(
    endpoint: str, config: DemoApiConfig, store: PageStore, injector: FaultInjector
) -> Callable[..., Response]:
    # A plain def: FastAPI runs it in its thread pool, so generating a day or an injected
    # stall does not block the event loop (and /health) for other clients.
    def read_page(
        request: Request,
        day: Annotated[date, Query(description="Records created or updated on this day.")],
        page: Annotated[int, Query(ge=1)] = 1,
        size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    ) -> Response:
        fault = injector.fault_for(_path_and_query(request))
        if fault == "error":
            return _json({"detail": "Injected internal server error"}, status_code=500)
        if fault == "rate_limit":
            retry_after = f"{config.faults.retry_after_seconds:g}"
            return _json(
                {"detail": "Rate limit exceeded"},
                status_code=429,
                headers={"Retry-After": retry_after},
            )
        if fault == "slow":
            time.sleep(config.faults.slow_seconds)
        body = store.page(endpoint, day, page, size)
        if fault == "truncate":
            body = body[: len(body) // 2]
        return Response(content=body, media_type="application/json")

    return read_page


def _path_and_query(request: Request) -> str:
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{request.url.path}?{query}" if query else request.url.path


def _json(
    payload: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        content=orjson.dumps(payload),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )
