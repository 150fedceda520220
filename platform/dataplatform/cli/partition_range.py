"""Which partitions a run covers: one given, a range, the last days, or the last complete day."""

import argparse
from collections.abc import Sequence

import dagster as dg

from dataplatform.cli.errors import UsageError


def partitions_to_run(
    partitions: dg.PartitionsDefinition | None,
    args: argparse.Namespace,
    instance: dg.DagsterInstance,
) -> Sequence[str | None]:
    if partitions is None:
        if args.partition or args.first or args.days:
            raise UsageError("this job is not partitioned: drop --partition/--from/--days")
        return [None]
    known = list(partitions.get_partition_keys(dynamic_partitions_store=instance))
    if args.first:
        last = args.last or args.first
        for key in (args.first, last):
            require_partition(key, known)
        if known.index(args.first) > known.index(last):
            raise UsageError(f"--from {args.first} comes after --to {last}")
        return known[known.index(args.first) : known.index(last) + 1]
    key = args.partition or default_partition(partitions)
    require_partition(key, known)
    if args.days and key is not None:
        end = known.index(key) + 1
        return known[max(0, end - args.days) : end]  # fewer when the calendar starts later
    return [key]


def default_partition(partitions: dg.PartitionsDefinition) -> str | None:
    """The last complete time window (yesterday, for daily), as the schedule would run; None
    before the first window is complete."""
    if not isinstance(partitions, dg.TimeWindowPartitionsDefinition):
        raise UsageError("this job's partitions have no default: give --partition")
    return partitions.get_last_partition_key()


def require_partition(key: str | None, known: list[str]) -> None:
    if key not in known:
        span = f"{known[0]} .. {known[-1]}" if known else "none yet"
        raise UsageError(f"unknown partition {key!r} (known: {span})")
