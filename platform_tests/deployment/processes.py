"""Start and stop the deployment's processes natively: code servers, webserver, daemon, workers."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout: float, what: str, poll: float = 1.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def wait_while_progressing(
    condition: Callable[[], bool],
    progress: Callable[[], object],
    stall: float,
    what: str,
    poll: float = 2.0,
) -> None:
    """Waits for `condition` as long as `progress()` keeps changing: it fails only after `stall`
    seconds without a change, so a slow, busy machine is waited for and a stuck one is not."""
    last, deadline = progress(), time.monotonic() + stall
    while not condition():
        current = progress()
        if current != last:
            last, deadline = current, time.monotonic() + stall
        elif time.monotonic() > deadline:
            raise TimeoutError(f"nothing happened for {stall:.0f}s while waiting for {what}")
        time.sleep(poll)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class Processes:
    """Each process in its own session, so a stop kills its whole process group."""

    def __init__(self, log_dir: Path, env: dict[str, str], cwd: Path) -> None:
        self.log_dir = log_dir
        self.env = {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}
        self.cwd = cwd
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> None:
        log = (self.log_dir / f"{name}.log").open("wb")
        self.started[name] = subprocess.Popen(
            argv,
            cwd=self.cwd,
            env={**self.env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def assert_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.started.items() if p.poll() is not None}
        assert not dead, f"processes exited early: {dead}; logs: {self.tails(list(dead))}"

    def tails(self, names: list[str], chars: int = 3000) -> str:
        return "\n".join(
            f"--- {name}\n{(self.log_dir / f'{name}.log').read_text(errors='replace')[-chars:]}"
            for name in names
        )

    def stop_all(self) -> None:
        for process in self.started.values():
            signal_group(process, signal.SIGTERM)
        for process in self.started.values():
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                signal_group(process, signal.SIGKILL)
                process.wait(timeout=5)


def signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
