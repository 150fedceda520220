"""A read-only HTTP API over the local DataHub Lite catalog, bound to one file.

It serves the routes of acryl-datahub's `datahub lite serve` (`/entities`, `/entities/{urn}`,
`/browse`, `/search`), which answers HTTP 500 for every single entity: its route declares each
aspect as a mapping of names to objects, and FastAPI validates responses against that
declaration, so any aspect holding a string, a number or a list fails. No FastAPI release that
works with pydantic 2 skips that validation. Here entities are returned as stored.
"""

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from datahub.lite.lite_local import Browseable, DataHubLiteLocal, Searchable, SearchFlavor
from datahub.lite.lite_util import get_datahub_lite
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import RedirectResponse

DEFAULT_PORT = 8979


def open_lite(path: Path) -> DataHubLiteLocal:
    """DataHub Lite on SQLite at `path`, read-only: the server never creates or changes it."""
    config = {"type": "sqlite", "config": {"file": str(path), "read_only": True}}
    return get_datahub_lite(config, read_only=True)


def request_lite(request: Request) -> Iterator[DataHubLiteLocal]:
    """The app's catalog, opened per request: SQLite readers are cheap, and the platform's
    writers keep writing between requests."""
    catalog = open_lite(request.app.state.catalog_path)
    try:
        yield catalog
    finally:
        catalog.close()


Lite = Annotated[DataHubLiteLocal, Depends(request_lite)]


def create_app(path: Path) -> FastAPI:
    """The API over the DataHub Lite file at `path`."""
    app = FastAPI(title="DataHub Lite (read-only)", description=f"The catalog at {path}")
    app.state.catalog_path = path

    @app.get("/", include_in_schema=False)
    def docs() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"ping": "pong"}

    @app.get("/entities")
    def entity_urns(catalog: Lite) -> list[str]:
        return list(catalog.list_ids())

    @app.get("/entities/{urn:path}")
    def entity(
        urn: str, catalog: Lite, aspects: Annotated[list[str] | None, Query()] = None
    ) -> dict[str, Any]:
        """One entity: its URN and its aspects, by name, as stored (`?aspects=a&aspects=b`)."""
        found = catalog.get(urn, aspects=aspects, typed=False)
        if not found:
            raise HTTPException(status_code=404, detail=f"no entity {urn} in the catalog")
        return found

    @app.get("/browse")
    def browse(catalog: Lite, path: str = "/") -> list[Browseable]:
        return list(catalog.ls(path))

    @app.get("/search")
    def search(
        catalog: Lite, query: str = "*", flavor: SearchFlavor = SearchFlavor.FREE_TEXT
    ) -> list[Searchable]:
        return list(catalog.search(query=query, flavor=flavor))

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m dataplatform.catalog.lite_server",
        description="A read-only HTTP API over the local DataHub Lite catalog.",
    )
    parser.add_argument("--file", type=Path, required=True, help="the DataHub Lite SQLite file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    if not args.file.is_file():
        parser.exit(
            2, f"{parser.prog}: no DataHub Lite catalog at {args.file} (make run writes it)\n"
        )
    uvicorn.run(create_app(args.file), host=args.host, port=args.port)


if __name__ == "__main__":
    main(sys.argv[1:])
