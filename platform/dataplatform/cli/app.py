"""The command line: its parser, and every failure turned into one line and an exit code."""

import argparse
import sys
from importlib.metadata import version

from dataplatform.catalog.sink import CatalogDeliveryError
from dataplatform.cli import output
from dataplatform.cli.catalog import code_location_sink
from dataplatform.cli.entities import add_entities_parser
from dataplatform.cli.errors import (
    EXIT_CODES,
    EXIT_OK,
    EXIT_RUN_FAILED,
    EXIT_USAGE,
    UsageError,
)
from dataplatform.cli.inventory import list_command
from dataplatform.cli.predict import add_predict_parser
from dataplatform.cli.run import run_command
from dataplatform.cli.sql import add_sql_parser
from dataplatform.cli.status import status_command
from dataplatform.settings import Calendar, PlatformSettings, SettingsError

DESCRIPTION = (
    "Materialise the platform's assets through its code location, with live progress, "
    "and report their status."
)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        Calendar.from_environment()  # every setting checked before the code location loads
        PlatformSettings.from_environment()
        return args.handler(args)
    except SystemExit as exit_request:  # argparse: --help, --version, bad options; Ctrl-C
        return int(exit_request.code or 0)
    except UsageError as error:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except SettingsError as error:
        for line in str(error).splitlines():
            print(f"{parser.prog}: configuration error: {line}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:  # the code location failed to load, a run failed to launch...
        print(f"{parser.prog}: error: {one_line(error)}", file=sys.stderr)
        return EXIT_RUN_FAILED


def one_line(error: BaseException) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dataplatform",
        description=DESCRIPTION,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version("dataplatform"))
    commands = parser.add_subparsers(dest="command", required=True)
    add_run_parser(commands)
    status = commands.add_parser(
        "status",
        help="last materialisation and latest check results per asset",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--select", help="asset selection, e.g. 'group:cleaned' (default: all)")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=status_command)
    listing = commands.add_parser("list", help="assets (with groups), jobs, schedules, sensors")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=list_command)
    replay = commands.add_parser("replay-lineage", help="send spooled catalog metadata to DataHub")
    replay.set_defaults(handler=lambda _args: replay_lineage())
    add_entities_parser(commands)
    add_predict_parser(commands)
    add_sql_parser(commands)
    return parser


def add_run_parser(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="materialise a job or an asset selection for a partition or a range of them",
        description="Materialise a job or an asset selection, one run per partition, in order, "
        "launched through the code location as the daemon does. A range stops at the first "
        "failed run.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = run.add_mutually_exclusive_group()
    target.add_argument(
        "--job", help="a job name, see `dataplatform list` (default: daily_refresh)"
    )
    target.add_argument(
        "--select", help="an asset selection, e.g. 'group:raw or key:cleaned/reviews'"
    )
    when = run.add_mutually_exclusive_group()
    when.add_argument("--partition", help="a partition key (default for daily jobs: the last day)")
    when.add_argument("--from", dest="first", metavar="FIRST", help="first partition of a range")
    when.add_argument(
        "--days",
        type=positive_int,
        help="the last DAYS complete days, oldest first (fewer if the calendar starts later)",
    )
    run.add_argument("--to", dest="last", metavar="LAST", help="last partition of a range")
    run.add_argument(
        "--demo-api",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve the bundled demo API on a free port (default: unless DATAPLATFORM_API_URL)",
    )
    run.add_argument("--listens-per-day", type=int, default=5_000, help="demo API volume")
    run.add_argument(
        "--parallel",
        action="store_true",
        help="run steps in parallel processes, as the daemon does (default: one process)",
    )
    run.add_argument(
        "--verbose",
        action="store_true",
        help="print every Dagster event and the run workers' own output (default: to a log)",
    )
    run.set_defaults(handler=run_command)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of days, got {text}")
    return value


def replay_lineage() -> int:
    """Sends the spool with the code location's `datahub` resource, resolved by Dagster."""
    with code_location_sink() as datahub:
        try:
            sent = datahub.replay()
        except CatalogDeliveryError as error:
            output.console.print(f"[red]{error}[/]")
            return EXIT_RUN_FAILED
    output.console.print(f"Replayed {sent} spooled batches to DataHub ({datahub.kind.value}).")
    return EXIT_OK
