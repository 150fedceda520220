"""Pairs labelled by a person: which candidate pairs they name, and matches blocking missed.

Labels are a frame with `LABEL_COLUMNS` (left_id, right_id, is_match): a pair may be given in
either order, a pair labelled twice keeps its last verdict, and a label naming a record that
is not in the run is ignored. Ids are matched by their text, so labels read from a file as
text name records with integer ids too. Unlabelled pairs are unknown, never non-matches.
"""

from typing import cast

import numpy as np
import pandas as pd

from dataplatform.entities.quality import pair_key
from dataplatform.entities.spec import LABEL_COLUMNS


def checked_labels(labels: pd.DataFrame) -> pd.DataFrame:
    """The labels with ids as text and boolean verdicts, each unordered pair once (the last
    verdict wins), pairs of a record with itself left out."""
    missing = [column for column in LABEL_COLUMNS if column not in labels.columns]
    if missing:
        raise ValueError(f"labels need the columns {list(LABEL_COLUMNS)}; missing {missing}")
    left = _text(cast(pd.Series, labels["left_id"]))
    right = _text(cast(pd.Series, labels["right_id"]))
    keys = pd.Series([pair_key(a, b) for a, b in zip(left, right, strict=True)], dtype=object)
    verdicts = labels["is_match"].astype(bool).to_numpy()
    checked = pd.DataFrame({"left_id": left, "right_id": right, "is_match": verdicts})
    distinct = ~keys.duplicated(keep="last").to_numpy() & (left != right)
    return cast(pd.DataFrame, checked[distinct]).reset_index(drop=True)


def labelled_rows(pairs: pd.MultiIndex, labels: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The positions among `pairs` of the pairs `labels` name (in either order), ascending,
    and their verdicts (1.0 for a match, 0.0 for a non-match)."""
    labels = checked_labels(labels)
    found = _pairs_among(pairs, labels)
    crossed = labels.rename(columns={"left_id": "right_id", "right_id": "left_id"})
    matched = pd.concat(
        [found.merge(verdicts, on=["left_id", "right_id"]) for verdicts in (labels, crossed)]
    )
    matched = matched.drop_duplicates("row").sort_values("row")
    return matched["row"].to_numpy(dtype=np.int64), matched["is_match"].to_numpy(np.float64)


def missed_matches(
    pairs: pd.MultiIndex, labels: pd.DataFrame, left_ids: pd.Index, right_ids: pd.Index
) -> pd.MultiIndex:
    """Labelled matches that are not among `pairs` (in either order), oriented from a record
    of `left_ids` to one of `right_ids`; labels whose records are not there are left out."""
    matches = checked_labels(labels)
    matches = cast(pd.DataFrame, matches[matches["is_match"].to_numpy()])
    left, right = pd.Index(matches["left_id"]), pd.Index(matches["right_id"])
    left_texts, right_texts = pd.Index(_text(left_ids)), pd.Index(_text(right_ids))
    straight = left.isin(left_texts) & right.isin(right_texts)
    reverse = ~straight & right.isin(left_texts) & left.isin(right_texts)
    kept = straight | reverse
    sources = np.where(straight, left, right)[kept]
    targets = np.where(straight, right, left)[kept]
    known = _pairs_among(pairs, matches)
    present = {pair_key(a, b) for a, b in zip(known["left_id"], known["right_id"], strict=True)}
    new = np.fromiter(
        (pair_key(a, b) not in present for a, b in zip(sources, targets, strict=True)),
        dtype=bool,
        count=len(sources),
    )
    # The records' own ids, not the labels' text.
    return pd.MultiIndex.from_arrays(
        [
            left_ids[left_texts.get_indexer(sources[new])],
            right_ids[right_texts.get_indexer(targets[new])],
        ]
    )


def _pairs_among(pairs: pd.MultiIndex, labels: pd.DataFrame) -> pd.DataFrame:
    """The pairs both of whose records some label names: their ids (as objects) and rows."""
    ids = np.asarray(pd.unique(labels[["left_id", "right_id"]].to_numpy().ravel()))
    # Selected by the level codes before any per-pair array of ids is built: there may be
    # tens of millions of pairs.
    rows = np.flatnonzero(_in_level(pairs, 0, ids) & _in_level(pairs, 1, ids))
    near = cast(pd.MultiIndex, pairs[rows])
    return pd.DataFrame(
        {
            "left_id": _text(near.get_level_values(0)),
            "right_id": _text(near.get_level_values(1)),
            "row": rows,
        }
    )


def _text(ids: pd.Index | pd.Series) -> np.ndarray:
    return ids.astype(str).to_numpy(dtype=object)


def _in_level(pairs: pd.MultiIndex, level: int, ids: np.ndarray) -> np.ndarray:
    """For each pair, whether its record on `level` is among `ids` (as text)."""
    listed = pd.Index(_text(cast(pd.Index, pairs.levels[level]))).isin(ids)
    codes = cast(np.ndarray, pairs.codes[level])
    return listed[codes] & (codes >= 0)
