"""Serve the demo API in its own process: prints `DEMO_API_URL=...` once up, stops on a signal."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from datetime import date

from dataplatform.demo_api.config import DemoApiConfig
from dataplatform.demo_api.server import DemoApiServer

TOKEN_ENV_VAR = "DATAPLATFORM_API_TOKEN"  # noqa: S105  the variable's name, not a token


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dataplatform.demo_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=DemoApiConfig.seed)
    parser.add_argument(
        "--listens-per-day",
        type=int,
        default=DemoApiConfig.listens_per_day,
        help="users, tracks and reviews scale in proportion",
    )
    parser.add_argument("--start-date", type=date.fromisoformat, default=DemoApiConfig.start_date)
    parser.add_argument("--token", default=None, help=f"bearer token (default: ${TOKEN_ENV_VAR})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = DemoApiConfig.scaled(
        args.listens_per_day,
        seed=args.seed,
        start_date=args.start_date,
        token=args.token or os.environ.get(TOKEN_ENV_VAR) or None,
    )
    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    with DemoApiServer(config, host=args.host, port=args.port) as server:
        print(f"DEMO_API_URL={server.url}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
