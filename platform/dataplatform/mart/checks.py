"""The mart's checks of a published day: row counts reconcile with the Parquet the day was built
from, keys are unique, references resolve.

Each check is SQL run on the committed mart (DuckDB or PostgreSQL alike) and returns a
`CheckOutcome`: whether it passed, what it counted, and a few offending keys when it did not.
The mart declares no keys where a day is replaced by a swap or a bulk load (see `schema`), so
these checks are where uniqueness is enforced.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow.parquet as pq
from upath import UPath

from dataplatform.mart.publish import MartConnection
from dataplatform.mart.schema import column_list, quoted
from dataplatform.mart.tables import (
    AS_OF,
    DAY,
    IS_CURRENT,
    LISTENS,
    RECOMMENDATIONS,
    REVIEWS,
    SENTIMENT_PREDICTIONS,
    TRACKS,
    USER_ENTITIES,
    USER_GOLDEN,
    USERS,
    VALID_FROM,
    Kind,
    MartTable,
)

ROWS_RECONCILE = "rows_reconcile"
VERSIONS_RECONCILE = "versions_reconcile"
PRIMARY_KEY_UNIQUE = "primary_key_unique"
REFERENCES_RESOLVED = "references_resolved"
EXAMPLES = 5  # offending keys shown per failed check
# Versions missing from the day's rows are looked up on other days one query each this many.
LOOKUP_BATCH = 500


@dataclass(frozen=True)
class Reference:
    """`column` refers to the key of `table`."""

    column: str
    table: MartTable
    # The cleaning lets a small share of rows refer to ids it has never seen (an orphan is
    # kept, not rejected: cleaning's `references_known`); such an id is not the mart's loss.
    # Only an unresolved id that the referenced table's Parquet history knows fails the check.
    orphans_accepted_upstream: bool = False


REFERENCES: dict[str, tuple[Reference, ...]] = {
    LISTENS.name: (Reference("user_id", USERS, True), Reference("track_id", TRACKS, True)),
    REVIEWS.name: (Reference("user_id", USERS, True), Reference("track_id", TRACKS, True)),
    USER_ENTITIES.name: (Reference("entity_id", USER_GOLDEN),),
    RECOMMENDATIONS.name: (Reference("user_id", USERS, True), Reference("track_id", TRACKS, True)),
    SENTIMENT_PREDICTIONS.name: (Reference("review_id", REVIEWS),),
}


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    counted: dict[str, Any]  # what was counted (shown as the check's metadata)
    examples: list[str] = field(default_factory=list)  # offending keys, when it failed


def check_names(table: MartTable) -> list[str]:
    reconcile = VERSIONS_RECONCILE if table.kind is Kind.DIMENSION else ROWS_RECONCILE
    return [reconcile, PRIMARY_KEY_UNIQUE] + [REFERENCES_RESOLVED] * bool(
        REFERENCES.get(table.name)
    )


def check_day(
    connection: MartConnection,
    table: MartTable,
    day: str,
    source: UPath,
    history: Callable[[MartTable], Iterable[UPath]],
) -> list[CheckOutcome]:
    """Every check of `table` for `day`; `source` is the Parquet file the day was built from,
    `history(t)` the Parquet files of `t`'s source up to the day."""
    date.fromisoformat(day)  # written into SQL as a literal: it must be a date
    if not exists(connection, table.name):
        return [
            CheckOutcome(name, False, {"table": f"{table.name} does not exist in the mart"})
            for name in check_names(table)
        ]
    outcomes = [
        reconcile(connection, table, day, source),
        primary_key_unique(connection, table, day),
    ]
    if REFERENCES.get(table.name):
        outcomes.append(references_resolved(connection, table, day, history))
    return outcomes


def reconcile(
    connection: MartConnection, table: MartTable, day: str, source: UPath
) -> CheckOutcome:
    if table.kind is Kind.DIMENSION:
        return versions_reconcile(connection, table, day, source)
    if not source.exists():
        return CheckOutcome(
            ROWS_RECONCILE,
            table.optional,
            {"source": f"no Parquet file for the day at {source}"},
        )
    if table.kind is Kind.SNAPSHOT:
        return snapshot_rows_reconcile(connection, table, day, source)
    return fact_rows_reconcile(connection, table, day, source)


def fact_rows_reconcile(
    connection: MartConnection, table: MartTable, day: str, source: UPath
) -> CheckOutcome:
    """The day's fact rows are the cleaned partition's rows, one for one."""
    in_mart = count(connection, table.name, f"{quoted(DAY)} = DATE '{day}'")
    in_source = source_rows(source)
    counted = {"mart_rows_of_the_day": in_mart, "source_rows": in_source, "source": str(source)}
    if in_mart == in_source:
        return CheckOutcome(ROWS_RECONCILE, True, counted)
    key = [c for c in table.key if c != DAY]
    mart_keys = set(
        connection.query(
            f"SELECT {column_list(key)} FROM {relation(connection, table.name)}"
            f" WHERE {quoted(DAY)} = DATE '{day}'"
        )
    )
    return keys_differ(ROWS_RECONCILE, counted, source_keys(source, key), mart_keys)


def snapshot_rows_reconcile(
    connection: MartConnection, table: MartTable, day: str, source: UPath
) -> CheckOutcome:
    """The snapshot holds the day's rows, unless it holds a later day's (publishing an older
    day leaves it alone)."""
    target = relation(connection, table.name)
    (as_of, in_mart) = connection.query(f"SELECT max({quoted(AS_OF)}), count(*) FROM {target}")[0]
    counted: dict[str, Any] = {"as_of": str(as_of), "mart_rows": int(in_mart)}
    if as_of is not None and as_of > date.fromisoformat(day):
        return CheckOutcome(ROWS_RECONCILE, True, counted | {"kept": "a later day's snapshot"})
    counted |= {"source_rows": source_rows(source), "source": str(source)}
    if as_of is None or as_of < date.fromisoformat(day):
        return CheckOutcome(
            ROWS_RECONCILE, False, counted | {"problem": "the day is not published"}
        )
    if in_mart == counted["source_rows"]:
        return CheckOutcome(ROWS_RECONCILE, True, counted)
    mart_keys = set(connection.query(f"SELECT {column_list(table.key)} FROM {target}"))
    return keys_differ(ROWS_RECONCILE, counted, source_keys(source, table.key), mart_keys)


def versions_reconcile(
    connection: MartConnection, table: MartTable, day: str, source: UPath
) -> CheckOutcome:
    """Every version of the cleaned partition is in the dimension (on this day, or on the day
    that first published it), the day holds no version the partition lacks, and each key the
    day touched has exactly one current version."""
    target = relation(connection, table.name)
    versions = [*table.key, VALID_FROM]
    on_day = set(
        connection.query(
            f"SELECT {column_list(versions)} FROM {target} WHERE {quoted(DAY)} = DATE '{day}'"
        )
    )
    expected = source_keys(source, [*table.key, table.version_column]) if source.exists() else set()
    missing = sorted(published_elsewhere(connection, table, expected - on_day), key=str)
    extra = sorted(on_day - expected, key=str)
    current = connection.query(
        f"SELECT {column_list(table.key)}, count(*) FILTER (WHERE {quoted(IS_CURRENT)})"
        f" FROM {target} WHERE ({column_list(table.key)}) IN"
        f" (SELECT {column_list(table.key)} FROM {target} WHERE {quoted(DAY)} = DATE '{day}')"
        f" GROUP BY {column_list(table.key)}"
        f" HAVING count(*) FILTER (WHERE {quoted(IS_CURRENT)}) <> 1"
    )
    counted = {
        "source_versions": len(expected),
        "mart_versions_of_the_day": len(on_day),
        "versions_missing": len(missing),
        "versions_not_in_source": len(extra),
        "keys_without_one_current_version": len(current),
        "source": str(source),
    }
    examples = (
        [f"missing {label(v)}" for v in missing[:EXAMPLES]]
        + [f"not in source {label(v)}" for v in extra[:EXAMPLES]]
        + [f"{label(row[:-1])}: {row[-1]} current versions" for row in current[:EXAMPLES]]
    )
    return CheckOutcome(VERSIONS_RECONCILE, not examples, counted, examples)


def published_elsewhere(
    connection: MartConnection, table: MartTable, candidates: set[tuple]
) -> set[tuple]:
    """The `candidates` (key, valid_from) not in the dimension on any day: a version the
    same record's extraction on another day published is kept once, on that day."""
    versions = [*table.key, VALID_FROM]
    candidates_list = sorted(candidates, key=str)
    found: set[tuple] = set()
    for start in range(0, len(candidates_list), LOOKUP_BATCH):
        batch = candidates_list[start : start + LOOKUP_BATCH]
        keys = ", ".join(f"({', '.join(literal(v) for v in version[:-1])})" for version in batch)
        found |= set(
            connection.query(
                f"SELECT {column_list(versions)} FROM {relation(connection, table.name)}"
                f" WHERE ({column_list(table.key)}) IN ({keys})"
            )
        )
    return candidates - found


def primary_key_unique(connection: MartConnection, table: MartTable, day: str) -> CheckOutcome:
    """No primary key of the day's rows is null or held by two rows of the table (any day);
    a snapshot is judged whole."""
    target = relation(connection, table.name)
    key = column_list(table.primary_key)
    on_day = f"{quoted(DAY)} = DATE '{day}'" if table.kind is not Kind.SNAPSHOT else "true"
    null_key = " OR ".join(f"{quoted(c)} IS NULL" for c in table.primary_key)
    nulls = count(connection, table.name, f"({on_day}) AND ({null_key})")
    duplicated = connection.query(
        f"SELECT {key}, count(*) AS copies, count(*) OVER () AS duplicated FROM {target}"
        f" JOIN (SELECT DISTINCT {key} FROM {target} WHERE {on_day}) AS d USING ({key})"
        f" GROUP BY {key} HAVING count(*) > 1 ORDER BY copies DESC, {key} LIMIT {EXAMPLES}"
    )
    counted = {
        "rows_checked": count(connection, table.name, on_day),
        "primary_key": ", ".join(table.primary_key),
        "duplicated_keys": int(duplicated[0][-1]) if duplicated else 0,
        "null_keys": nulls,
    }
    examples = [f"{label(row[:-2])}: {row[-2]} rows" for row in duplicated]
    examples += [f"{nulls} row(s) with a null key"] * bool(nulls)
    return CheckOutcome(PRIMARY_KEY_UNIQUE, not examples, counted, examples)


def references_resolved(
    connection: MartConnection,
    table: MartTable,
    day: str,
    history: Callable[[MartTable], Iterable[UPath]],
) -> CheckOutcome:
    """Each reference of the day's rows resolves to a row of the referenced mart table (any
    version of a dimension); see `Reference` for the orphans the cleaning accepted."""
    counted: dict[str, Any] = {}
    examples: list[str] = []
    for reference in REFERENCES[table.name]:
        unresolved = unresolved_ids(connection, table, reference, day)
        lost = unresolved
        if reference.orphans_accepted_upstream and unresolved:
            lost = unresolved & known_upstream(history(reference.table), reference, unresolved)
            counted[f"{reference.column}_orphans_accepted_upstream"] = len(unresolved - lost)
        counted[f"{reference.column}_unresolved"] = len(lost)
        examples += [
            f"{reference.column} {value} not in {reference.table.name}"
            for value in sorted(lost, key=str)[:EXAMPLES]
        ]
    return CheckOutcome(REFERENCES_RESOLVED, not examples, counted, examples)


def unresolved_ids(
    connection: MartConnection, table: MartTable, reference: Reference, day: str
) -> set[Any]:
    (key,) = [c for c in reference.table.key if c != DAY]
    on_day = f" AND f.{quoted(DAY)} = DATE '{day}'" if table.kind is not Kind.SNAPSHOT else ""
    column = quoted(reference.column)
    if not exists(connection, reference.table.name):
        rows = connection.query(
            f"SELECT DISTINCT f.{column} FROM {relation(connection, table.name)} AS f"
            f" WHERE f.{column} IS NOT NULL{on_day}"
        )
        return {value for (value,) in rows}
    rows = connection.query(
        f"SELECT DISTINCT f.{column} FROM {relation(connection, table.name)} AS f"
        f" WHERE f.{column} IS NOT NULL{on_day} AND NOT EXISTS (SELECT 1 FROM"
        f" {relation(connection, reference.table.name)} AS r WHERE r.{quoted(key)} = f.{column})"
    )
    return {value for (value,) in rows}


def known_upstream(paths: Iterable[UPath], reference: Reference, ids: set[Any]) -> set[Any]:
    """Which of `ids` the referenced table's Parquet files know."""
    (key,) = reference.table.key
    known: set[Any] = set()
    for path in paths:
        with path.open("rb") as file:
            known |= ids.intersection(pq.read_table(file, columns=[key]).column(key).to_pylist())
    return known


def keys_differ(
    name: str, counted: dict[str, Any], in_source: set[tuple], in_mart: set[tuple]
) -> CheckOutcome:
    missing, extra = sorted(in_source - in_mart, key=str), sorted(in_mart - in_source, key=str)
    counted = counted | {"keys_missing": len(missing), "keys_not_in_source": len(extra)}
    examples = [f"missing {label(k)}" for k in missing[:EXAMPLES]]
    examples += [f"not in source {label(k)}" for k in extra[:EXAMPLES]]
    if not examples:  # the same keys, some more than once
        examples = ["the same keys, a different number of rows (see primary_key_unique)"]
    return CheckOutcome(name, False, counted, examples)


def source_rows(path: UPath) -> int:
    with path.open("rb") as file:
        return pq.ParquetFile(file).metadata.num_rows


def source_keys(path: UPath, columns: Sequence[str]) -> set[tuple]:
    with path.open("rb") as file:
        rows = pq.read_table(file, columns=list(columns))
    return set(zip(*(rows.column(c).to_pylist() for c in columns), strict=True))


def exists(connection: MartConnection, name: str) -> bool:
    return bool(
        connection.query(
            "SELECT 1 FROM information_schema.tables"
            f" WHERE table_schema = '{connection.schema_name}' AND table_name = '{name}'"
        )
    )


def count(connection: MartConnection, name: str, where: str) -> int:
    (rows,) = connection.query(f"SELECT count(*) FROM {relation(connection, name)} WHERE {where}")[
        0
    ]
    return int(rows)


def relation(connection: MartConnection, name: str) -> str:
    return quoted(connection.schema_name, name)


def literal(value: object) -> str:
    if isinstance(value, bool | int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def label(key: Sequence[Any]) -> str:
    return "(" + ", ".join(str(value) for value in key) + ")"
