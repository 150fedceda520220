"""The review loop's data: uncertain pairs shown side by side, and the labels people give them.

A labels file (CSV or Parquet) has one row per reviewed record pair: `left_id`, `right_id`
and `is_match` (true/false, yes/no, y/n, 1/0, match/non-match; blank means not reviewed and
the row is skipped), optionally `labelled_at` and `labelled_by`; other columns are ignored,
so a reviewed copy of the uncertain pairs is a labels file. A file is read whole or not at
all: its first bad row fails it, naming the file, the row and the value. The kept labels are
one row per pair, ids as text in a canonical order (the smaller first), the latest verdict
winning.
"""

import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from dataplatform.entities.clustering import ENTITY_ID
from dataplatform.entities.prepared_keys import without_prepared_keys
from dataplatform.entities.spec import LABEL_COLUMNS, EntitySpec

LABELS_SCHEMA = {
    "left_id": "string",
    "right_id": "string",
    "is_match": "bool",
    "labelled_at": "datetime64[ns, UTC]",
    "labelled_by": "string",
    "source_file": "string",
    "kept_on": "string",  # the day the labels asset kept the file ("" before it is kept)
}
LABELS_FILE_SUFFIXES = (".csv", ".parquet")
MATCH_WORDS = frozenset({"true", "t", "yes", "y", "1", "match", "same"})
NON_MATCH_WORDS = frozenset(
    {"false", "f", "no", "n", "0", "non-match", "nonmatch", "non_match", "no-match", "different"}
)


class LabelsFileError(ValueError):
    """A labels file that cannot be read, naming the file, the row and the value."""

    def __init__(self, file: str, reason: str, row: str = "", value: object = None) -> None:
        self.file, self.reason, self.row, self.value = file, reason, row, value
        where = f"{file}, {row}" if row else file
        found = "" if value is None else f" (found {value!r})"
        super().__init__(f"{where}: {reason}{found}")

    def as_dict(self) -> dict[str, str]:
        value = "" if self.value is None else repr(self.value)
        return {"file": self.file, "row": self.row, "value": value, "reason": self.reason}


def empty_labels() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in LABELS_SCHEMA.items()})


def read_labels_file(path: Path, labelled_by: str = "", kept_on: str = "") -> pd.DataFrame:
    """The labels of one file, in the kept labels' shape; `labelled_at` defaults to the
    file's modification time, `labelled_by` to the given name."""
    name = path.name
    rows, location = _raw_rows(path)
    missing = [column for column in LABEL_COLUMNS if column not in rows.columns]
    if missing:
        expected = ", ".join(LABEL_COLUMNS)
        raise LabelsFileError(name, f"missing column(s) {', '.join(missing)}; expected {expected}")
    modified = cast(pd.Timestamp, pd.Timestamp(datetime.fromtimestamp(path.stat().st_mtime, UTC)))
    labels = [
        label
        for number, row in enumerate(rows.to_dict("records"))
        if (label := _label(row, name, location(number), modified, labelled_by)) is not None
    ]
    table = pd.DataFrame(labels, columns=pd.Index(list(LABELS_SCHEMA)[:-2]))
    return _typed(table.assign(source_file=name, kept_on=kept_on))


def read_labels_files(paths: Iterable[tuple[Path, str]]) -> pd.DataFrame:
    """The labels of several files (each with the day it was kept), merged in their order
    (a later file's verdict wins)."""
    return merge_labels(
        empty_labels(), *(read_labels_file(path, kept_on=day) for path, day in paths)
    )


def merge_labels(kept: pd.DataFrame, *new: pd.DataFrame) -> pd.DataFrame:
    """The kept labels with the new ones: one row per pair, the latest `labelled_at` winning
    (on a tie, the later table)."""
    frames = [frame for frame in (kept, *new) if len(frame)]
    if not frames:
        return empty_labels()
    merged = pd.concat(frames, ignore_index=True).sort_values("labelled_at", kind="stable")
    latest = merged.drop_duplicates(["left_id", "right_id"], keep="last")
    return _typed(latest.sort_values(["left_id", "right_id"], ignore_index=True))


def labels_for_run(labels: pd.DataFrame, ids: pd.Series) -> pd.DataFrame | None:
    """The kept labels as `resolve` takes them (LABEL_COLUMNS, ids of the records' type), or
    None when there are none, so that a run without labels costs what it did. Ids that do
    not convert to the records' type name no record of the run and are left out."""
    if labels.empty:
        return None
    table = pd.DataFrame(
        {side: _as_id_type(cast(pd.Series, labels[side]), ids) for side in ("left_id", "right_id")}
    ).assign(is_match=cast(pd.Series, labels["is_match"]).to_numpy(dtype=bool))
    known = (table["left_id"].notna() & table["right_id"].notna()).to_numpy()
    if not known.any():
        return None
    id_type = {side: ids.dtype.name for side in ("left_id", "right_id")}
    return cast(pd.DataFrame, table[known]).astype(id_type).reset_index(drop=True)


def write_labels_file(labels: pd.DataFrame, folder: Path, name: str) -> Path:
    """Write labels as CSV into `folder`, atomically: a hidden temporary file, renamed once
    complete, so that nothing reads it half-written."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    temporary = folder / f".{name}.tmp"
    labels.to_csv(temporary, index=False)
    os.replace(temporary, target)
    return target


def side_by_side(
    spec: EntitySpec, pairs: pd.DataFrame, records: pd.DataFrame, threshold: float
) -> pd.DataFrame:
    """The pairs (left_id, right_id, score, evidence per comparison) with each record's
    fields beside the other's (`left_<field>`, `right_<field>`), closest to the threshold
    (the most uncertain) first."""
    fields = without_prepared_keys(records).drop(columns=[ENTITY_ID], errors="ignore")
    by_id = fields.drop_duplicates(spec.id_column, keep="last").set_index(spec.id_column)
    evidence = [column for column in pairs.columns if column not in ("left_id", "right_id")]
    order = np.argsort(np.abs(pairs["score"].to_numpy(dtype=float) - threshold), kind="stable")
    ordered = pairs.iloc[order].reset_index(drop=True)
    sides = {
        f"{side}_{field}": by_id[field].reindex(ordered[f"{side}_id"]).to_numpy()
        for field in by_id.columns
        for side in ("left", "right")
    }
    table = pd.DataFrame({"left_id": ordered["left_id"], "right_id": ordered["right_id"]})
    return pd.concat([table, pd.DataFrame(sides), ordered[evidence]], axis=1)


def _raw_rows(path: Path) -> tuple[pd.DataFrame, Callable[[int], str]]:
    """The file's rows (a CSV's as text, ids untouched), and how to name the n-th row in an
    error: a CSV's line (after the header), a Parquet file's row."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            rows = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
            return rows, lambda number: f"line {number + 2}"
        if suffix == ".parquet":
            return pq.read_table(path).to_pandas(), lambda number: f"row {number + 1}"
    except (ValueError, OSError) as error:  # pandas' and Arrow's parse errors are ValueErrors
        raise LabelsFileError(path.name, f"unreadable: {error}") from None
    raise LabelsFileError(path.name, f"expected a {' or '.join(LABELS_FILE_SUFFIXES)} file")


def _label(
    row: dict, file: str, where: str, modified: pd.Timestamp, labelled_by: str
) -> tuple | None:
    """One label (left, right, is_match, labelled_at, labelled_by) with the pair in the
    canonical order, or None when the row holds no verdict."""
    verdict = _is_match(row["is_match"], file, where)
    if verdict is None:
        return None
    left, right = (_id_text(row[side], side, file, where) for side in ("left_id", "right_id"))
    if left == right:
        raise LabelsFileError(file, "a record cannot be labelled against itself", where, left)
    labelled_at = _timestamp(row.get("labelled_at"), file, where) or modified
    by = row.get("labelled_by")
    return (*sorted((left, right)), verdict, labelled_at, str(by) if _present(by) else labelled_by)


def _is_match(value: object, file: str, where: str) -> bool | None:
    if not _present(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    word = _text(value).lower()
    if word in MATCH_WORDS:
        return True
    if word in NON_MATCH_WORDS:
        return False
    raise LabelsFileError(
        file, "is_match: expected true/false, yes/no, 1/0 or match/non-match", where, value
    )


def _id_text(value: object, column: str, file: str, where: str) -> str:
    if not _present(value):
        raise LabelsFileError(file, f"{column} is missing", where, value)
    return _text(value)


def _timestamp(value: object, file: str, where: str) -> pd.Timestamp | None:
    if not _present(value):
        return None
    try:
        stamp = cast(pd.Timestamp, pd.Timestamp(cast(str, value)))
    except (ValueError, TypeError):
        raise LabelsFileError(file, "labelled_at: expected a date and time", where, value) from None
    return stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)


def _present(value: object) -> bool:
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    return not (isinstance(value, float) and np.isnan(value))


def _text(value: object) -> str:
    """Text of an id or a word: an integral float (Parquet ints with nulls) without '.0'."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _as_id_type(values: pd.Series, ids: pd.Series) -> pd.Series:
    """Text ids as numbers (NaN where not a number) when the records' ids are numbers."""
    if pd.api.types.is_numeric_dtype(ids.dtype):
        return cast(pd.Series, pd.to_numeric(values, errors="coerce"))
    return values.astype(object)


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    return table.astype(LABELS_SCHEMA)  # pyright: ignore[reportArgumentType]  # pandas-stubs reject a dict of dtype names
