"""Run the demo API with uvicorn in a background thread, on a socket bound up front."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import httpx
import uvicorn

from dataplatform.demo_api.app import create_app
from dataplatform.demo_api.config import DemoApiConfig


class DemoApiServer:
    """Context manager serving the demo API on `url` until exit; port 0 picks a free port."""

    def __init__(
        self,
        config: DemoApiConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 15.0,
    ) -> None:
        self.config = config or DemoApiConfig()
        self.host = host
        self.port = port
        self._startup_timeout = startup_timeout
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> DemoApiServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Bind, start serving in a daemon thread and wait until /health answers."""
        self._socket = socket.create_server((self.host, self.port))
        self.port = self._socket.getsockname()[1]
        uvicorn_config = uvicorn.Config(
            create_app(self.config),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(uvicorn_config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"demo-api-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._wait_until_healthy()

    def stop(self) -> None:
        """Ask uvicorn to finish in-flight requests and exit, then release the socket."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._thread is None or not self._thread.is_alive():
                break
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0, trust_env=False).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"demo API did not become healthy on {self.url}")
