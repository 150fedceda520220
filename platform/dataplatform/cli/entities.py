"""`dataplatform entities review`: label the latest uncertain pairs in the terminal.

Each pair is shown field by field, side by side, with the score and each comparison's
evidence; the answers (y/n; s skips, q stops) are written as one labels file into the
landing zone's `labels/<spec>/` folder, which the next run of the entity assets reads.
"""

import argparse
import getpass
import sys
from datetime import UTC, datetime
from typing import cast

import pandas as pd
import pyarrow.parquet as pq
from rich.markup import escape
from rich.table import Table

from dataplatform.cli import output
from dataplatform.cli.errors import EXIT_OK, UsageError
from dataplatform.cli.instance import local_instance
from dataplatform.defs.entities.assets import RESOLVED_SPECS, entity_keys
from dataplatform.defs.entities.review import labels_dataset
from dataplatform.entities.label_files import (
    LabelsFileError,
    read_labels_file,
    write_labels_file,
)
from dataplatform.entities.spec import EntitySpec
from dataplatform.landing.zone import LandingZone
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from dataplatform.settings import PlatformSettings

ANSWERS = {"y": True, "yes": True, "n": False, "no": False, "s": None, "skip": None}
QUIT = ("q", "quit")


def add_entities_parser(commands: argparse._SubParsersAction) -> None:
    entities = commands.add_parser("entities", help="entity resolution: review uncertain pairs")
    actions = entities.add_subparsers(dest="action", required=True)
    review = actions.add_parser(
        "review",
        help="label the latest uncertain pairs; the next run uses the labels",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    review.add_argument(
        "--spec", default="users", choices=sorted(RESOLVED_SPECS), help="default: users"
    )
    review.add_argument("--limit", type=int, default=20, help="pairs to review at most")
    review.set_defaults(handler=review_command)


def review_command(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    spec = RESOLVED_SPECS[args.spec]
    settings = PlatformSettings.from_environment()
    partition, pairs = latest_uncertain_pairs(spec, settings)
    landing = LandingZone(root=settings.landing_folder)
    pairs = without_answered(pairs, landing, spec).head(args.limit)
    if pairs.empty:
        output.console.print(f"No uncertain {spec.name} pairs left to review in {partition}.")
        return EXIT_OK
    output.console.print(f"{len(pairs)} uncertain {spec.name} pairs of {partition}:")
    answers = ask(spec, pairs)
    if answers.empty:
        output.console.print("No labels given; nothing written.")
        return EXIT_OK
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    folder = landing.dataset_dir(labels_dataset(spec))
    path = write_labels_file(answers, folder, f"review-{partition}-{stamp}.csv")
    matches = int(answers["is_match"].sum())
    output.console.print(
        f"Wrote {len(answers)} labels ({matches} matches, {len(answers) - matches} non-matches)"
        f" to {output.relative(str(path))}; the next run of the {spec.name} entities uses them."
    )
    return EXIT_OK


def latest_uncertain_pairs(
    spec: EntitySpec, settings: PlatformSettings
) -> tuple[str, pd.DataFrame]:
    """The last materialised day's uncertain pairs (read where the IO manager wrote them)."""
    key = entity_keys(spec).uncertain
    with local_instance() as instance:
        days = instance.get_materialized_partitions(key)
    if not days:
        raise UsageError(
            f"no {key.to_user_string()} materialised yet: run the entities first"
            f" (dataplatform run --select 'group:entities')"
        )
    day = max(days)
    path = ParquetIOManager(base_path=settings.data_dir).path_for(key, day)
    with path.open("rb") as source:
        return day, pq.read_table(source).to_pandas()


def without_answered(pairs: pd.DataFrame, landing: LandingZone, spec: EntitySpec) -> pd.DataFrame:
    """The pairs no labels file waiting in the landing zone answers yet (a second review
    before the next run does not ask them again)."""
    dataset = labels_dataset(spec)
    answered: set[tuple[str, str]] = set()
    for file in landing.arrivals(dataset)[0]:
        try:
            labels = read_labels_file(landing.dataset_dir(dataset) / file.name)
        except LabelsFileError:
            continue  # the labels asset quarantines it and says why
        answered |= set(zip(labels["left_id"], labels["right_id"], strict=True))
    keys = [
        tuple(sorted((str(left), str(right))))
        for left, right in zip(pairs["left_id"], pairs["right_id"], strict=True)
    ]
    return cast(pd.DataFrame, pairs[[key not in answered for key in keys]])


def ask(spec: EntitySpec, pairs: pd.DataFrame) -> pd.DataFrame:
    """Show each pair and read a verdict from stdin, until the pairs or the answers end."""
    evidence = [c.label for c in spec.comparisons if c.label in pairs.columns]
    noun = spec.name.removesuffix("s")
    verdicts = []
    for number, pair in enumerate(pairs.to_dict("records"), start=1):
        output.console.print(pair_table(pair, evidence, f"pair {number} of {len(pairs)}"))
        verdict = read_verdict(f"Same {noun}? [y]es, [n]o, [s]kip, [q]uit: ")
        if verdict == "quit":
            break
        if verdict is not None:
            verdicts.append((pair["left_id"], pair["right_id"], verdict))
    answers = pd.DataFrame(verdicts, columns=pd.Index(["left_id", "right_id", "is_match"]))
    return answers.assign(
        labelled_at=datetime.now(UTC).isoformat(timespec="seconds"), labelled_by=reviewer()
    )


def pair_table(pair: dict, evidence: list[str], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("field", "left", "right"):
        table.add_column(column, overflow="fold")
    table.add_row("id", shown(pair["left_id"]), shown(pair["right_id"]))
    fields = [name.removeprefix("left_") for name in pair if name.startswith("left_")]
    for field in fields:
        if field != "id" and f"right_{field}" in pair:
            table.add_row(field, shown(pair[f"left_{field}"]), shown(pair[f"right_{field}"]))
    table.add_section()
    table.add_row("score", f"{pair['score']:.3f}", "")
    for label in evidence:
        table.add_row(f"evidence: {label}", shown(pair[label]), "")
    return table


def read_verdict(prompt: str) -> bool | str | None:
    """True, False, None (skip) or "quit" (also at the end of the input)."""
    while True:
        output.console.print(prompt, end="", markup=False)
        line = sys.stdin.readline()
        answer = line.strip().lower()
        if not sys.stdin.isatty():  # piped answers are not echoed: show them
            output.console.print(answer, markup=False, highlight=False)
        if not line or answer in QUIT:
            return "quit"
        if answer in ANSWERS:
            return ANSWERS[answer]
        output.console.print(f"[yellow]{escape(repr(answer))}: answer y, n, s or q[/]")


def shown(value: object) -> str:
    """A value as table text, '-' when missing (never read as rich markup)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return escape(str(value))


def reviewer() -> str:
    try:
        return getpass.getuser()
    except OSError:  # no user name in the environment (some containers)
        return "unknown"
