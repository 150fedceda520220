"""Data checks on a cleaned table, as pure functions returning asset-check results.

Blocking (ERROR) checks guard what downstream joins rely on: the schema the source sent and
the table's keys. The others warn without stopping the refresh: a late-arriving user, a
dirty day or a quiet day is worth a look, not a halt.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import cast

import dagster as dg
import pandas as pd

from dataplatform.cleaning.spec import TableSpec
from dataplatform.cleaning.validation import Cleaned

MAX_REJECT_SHARE = 0.10
MAX_ORPHAN_SHARE = 0.05
MIN_VOLUME_RATIO = 0.5

BLOCKING_CHECKS = {
    "schema_matches": "Every declared column arrived from the source (no schema drift).",
    "keys_not_null": "No row has a null in a key column declared not nullable.",
    "keys_unique": "No two rows share a key.",
}
WARNING_CHECKS = {
    "reject_share_low": f"At most {MAX_REJECT_SHARE:.0%} of the raw rows were rejected.",
    "row_volume_stable": f"Rows are at least {MIN_VOLUME_RATIO:.0%} of the previous partition's.",
}
REFERENCE_CHECK = {
    "references_known": f"At most {MAX_ORPHAN_SHARE:.0%} of rows reference unknown ids.",
}


def check_specs(spec: TableSpec, asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    warnings = WARNING_CHECKS | (REFERENCE_CHECK if spec.references else {})
    return [
        dg.AssetCheckSpec(name, asset=asset_key, description=text, blocking=True)
        for name, text in BLOCKING_CHECKS.items()
    ] + [
        dg.AssetCheckSpec(name, asset=asset_key, description=text)
        for name, text in warnings.items()
    ]


def schema_matches(cleaned: Cleaned) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name="schema_matches",
        passed=not cleaned.missing_columns,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "missing_columns": ", ".join(cleaned.missing_columns) or "none",
            "unexpected_columns": ", ".join(cleaned.unexpected_columns) or "none",
        },
    )


def keys_not_null(table: pd.DataFrame, spec: TableSpec) -> dg.AssetCheckResult:
    """A key column declared nullable may be null: null is then one of its values (a landed
    file without sheets has a null `_sheet`)."""
    required = [column for column in spec.key if not spec.fields[column].nullable]
    null_key = cast(pd.Series, table[required].isna().any(axis=1))
    nulls = int(null_key.sum())
    return dg.AssetCheckResult(
        check_name="keys_not_null",
        passed=nulls == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"rows_with_null_key": nulls},
    )


def keys_unique(table: pd.DataFrame, spec: TableSpec) -> dg.AssetCheckResult:
    repeated = int(table.duplicated(list(spec.key)).sum())
    return dg.AssetCheckResult(
        check_name="keys_unique",
        passed=repeated == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"rows_with_repeated_key": repeated},
    )


def reject_share_low(raw_rows: int, rejected_rows: int) -> dg.AssetCheckResult:
    share = rejected_rows / raw_rows if raw_rows else 0.0
    return dg.AssetCheckResult(
        check_name="reject_share_low",
        passed=share <= MAX_REJECT_SHARE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rejected_rows": rejected_rows, "reject_share": round(share, 4)},
    )


def references_known(
    table: pd.DataFrame,
    known_ids: Mapping[str, pd.Series],
    list_columns: Collection[str] = (),
) -> dg.AssetCheckResult:
    """At most MAX_ORPHAN_SHARE of the rows refer to an unknown id; a list column is judged
    the same way exploded, one row per element (an empty list refers to nothing).

    Metadata: `unknown_<column>` counts rows (elements, for a list column); `orphan_share` is
    the share of rows with any unknown scalar reference, `<column>_orphan_share` a list
    column's share of unknown elements.
    """
    orphan = pd.Series(False, index=table.index)
    metadata: dict[str, int | float] = {}
    shares = []
    for column, known in known_ids.items():
        if column in list_columns:
            unknown = ~cast(pd.Series, table[column]).explode().dropna().isin(known)
            share = float(unknown.mean()) if len(unknown) else 0.0
            metadata[f"{column}_orphan_share"] = round(share, 4)
            shares.append(share)
        else:
            unknown = ~table[column].isin(known)
            orphan |= unknown
        metadata[f"unknown_{column}"] = int(unknown.sum())
    share = float(orphan.mean()) if len(table) else 0.0
    return dg.AssetCheckResult(
        check_name="references_known",
        passed=max([share, *shares]) <= MAX_ORPHAN_SHARE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={**metadata, "orphan_share": round(share, 4)},
    )


def row_volume_stable(rows: int, previous_rows: int | None) -> dg.AssetCheckResult:
    if previous_rows is None:
        return dg.AssetCheckResult(
            check_name="row_volume_stable",
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"rows": rows, "previous_rows": "no previous partition"},
        )
    return dg.AssetCheckResult(
        check_name="row_volume_stable",
        passed=rows >= MIN_VOLUME_RATIO * previous_rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows": rows, "previous_rows": previous_rows},
    )
