"""A stand-in for DataHub GMS on loopback: it records what the REST emitter sends, and fails
on demand.

It answers what acryl-datahub's `DatahubRestEmitter` uses in Rest.li mode
(`openapi_ingestion=False`): `GET /config` and `POST /aspects?action=ingestProposal` /
`?action=ingestProposalBatch`. Every request is recorded (method, path with query, headers,
parsed JSON body, the status answered). Faults are switched with `fault`:

- `Fault.ERROR`: every request is answered 500 with a GMS-style error body;
- `Fault.HANG`: requests are read and recorded but never answered, until the fault is
  cleared (or `hang_seconds` pass), so the client times out;
- `Fault.DOWN`: nothing listens on the port any more, so connections are refused; the port
  stays reserved and the stand-in listens on it again when the fault is cleared.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

INGEST_PATHS = ("/aspects?action=ingestProposal", "/aspects?action=ingestProposalBatch")

SERVER_CONFIG = {
    "noCode": "true",  # the emitter refuses a /config without it (it would be the frontend)
    "versions": {"acryldata/datahub": {"version": "v1.0.0", "commit": "stand-in"}},
    "statefulIngestionCapable": True,
    "supportsImpactAnalysis": False,
    "retention": "true",
    "timeZone": "GMT",
}


class Fault(StrEnum):
    NONE = "none"
    ERROR = "error"
    HANG = "hang"
    DOWN = "down"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # path and query, e.g. "/aspects?action=ingestProposalBatch"
    headers: dict[str, str]
    body: Any  # the parsed JSON body; None if there was none
    status: int | None  # the status answered; None if the request was never answered

    @property
    def is_ingest(self) -> bool:
        return self.method == "POST" and self.path in INGEST_PATHS

    @property
    def proposals(self) -> list[dict[str, Any]]:
        """The MCPs of an ingest request, each with `aspect` decoded from its JSON text."""
        if not self.is_ingest or not isinstance(self.body, dict):
            return []
        raw = self.body.get("proposals") or [self.body.get("proposal")]
        return [_decoded(proposal) for proposal in raw if proposal]


def _decoded(proposal: dict[str, Any]) -> dict[str, Any]:
    aspect = proposal.get("aspect")
    if isinstance(aspect, dict) and aspect.get("contentType") == "application/json":
        return {**proposal, "aspect": json.loads(aspect["value"])}
    return proposal


class GmsStandIn:
    """Context manager serving the stand-in on `url` (a free loopback port) until exit."""

    def __init__(self, host: str = "127.0.0.1", hang_seconds: float = 30.0) -> None:
        self.host = host
        self.port = 0
        self.hang_seconds = hang_seconds
        self.error_message = "stand-in GMS: internal server error"
        self._fault = Fault.NONE
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._released = threading.Event()  # set: hung requests may give up now
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._placeholder: socket.socket | None = None  # holds the port while DOWN

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> GmsStandIn:
        self._listen()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._released.set()
        self._stop_listening()
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None

    def _listen(self) -> None:
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None
        self._server = ThreadingHTTPServer((self.host, self.port), self._handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"gms-stand-in-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    # -- faults ------------------------------------------------------------------------------

    @property
    def fault(self) -> Fault:
        return self._fault

    @fault.setter
    def fault(self, fault: Fault) -> None:
        fault = Fault(fault)
        if fault is Fault.HANG:
            self._released.clear()
        else:
            self._released.set()
        if fault is Fault.DOWN and self._server is not None:
            self._stop_listening()
            # Bound but not listening: connecting is refused, and the port stays ours.
            self._placeholder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._placeholder.bind((self.host, self.port))
        elif fault is not Fault.DOWN and self._server is None:
            self._listen()
        self._fault = fault

    # -- what was received -------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def ingested(self) -> list[dict[str, Any]]:
        """The proposals accepted (answered 200), in the order they arrived."""
        return [
            proposal
            for request in self.requests
            if request.is_ingest and request.status == 200
            for proposal in request.proposals
        ]

    def aspects(self, urn: str) -> dict[str, Any]:
        """The latest accepted aspect of each name for `urn`."""
        return {p["aspectName"]: p["aspect"] for p in self.ingested() if p["entityUrn"] == urn}

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- HTTP --------------------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._handle(None)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                self._handle(json.loads(raw) if raw else None)

            def _handle(self, body: Any) -> None:
                fault = stand_in.fault
                if fault is Fault.HANG:
                    stand_in._record(self._recorded(body, None))
                    stand_in._released.wait(stand_in.hang_seconds)
                    self.close_connection = True
                    return
                if fault is Fault.ERROR:
                    status, answer = 500, self._error(500, stand_in.error_message)
                elif self.command == "GET" and self.path == "/config":
                    status, answer = 200, SERVER_CONFIG
                elif self.command == "POST" and self.path in INGEST_PATHS:
                    status, answer = 200, {"value": []} if "Batch" in self.path else {}
                else:
                    status, answer = 404, self._error(404, f"no resource for {self.path}")
                stand_in._record(self._recorded(body, status))
                self._answer(status, answer)

            def _recorded(self, body: Any, status: int | None) -> RecordedRequest:
                return RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers=dict(self.headers.items()),
                    body=body,
                    status=status,
                )

            def _error(self, status: int, message: str) -> dict[str, Any]:
                return {
                    "exceptionClass": "com.linkedin.restli.server.RestLiServiceException",
                    "message": message,
                    "status": status,
                }

            def _answer(self, status: int, answer: Any) -> None:
                payload = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
