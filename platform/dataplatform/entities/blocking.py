"""Candidate pairs: records prepared by their spec, paired by its blocking passes.

Candidates come from recordlinkage's indexers, one `Block` per blocking pass and one
`SortedNeighbourhood` per sorted-neighbourhood column; their pairs are united.
"""

from typing import cast

import numpy as np
import pandas as pd
from recordlinkage.index import Block, SortedNeighbourhood
from recordlinkage.measures import full_index_size

from dataplatform.entities.dates import parse_dates, unparsed_count
from dataplatform.entities.spec import EntitySpec


def prepare_records(spec: EntitySpec, records: pd.DataFrame) -> pd.DataFrame:
    """Records with the spec's dates parsed, after its normalisation, indexed by record id
    (the column is kept); a column the spec reads but the records lack fails here."""
    _require_columns(spec, records, [spec.id_column, *(column for column, _ in spec.dates)])
    prepared = records.copy()
    for column, date_format in spec.dates:
        prepared[column] = parse_dates(cast(pd.Series, prepared[column]), date_format)
    prepared = spec.prepare(prepared) if spec.prepare is not None else prepared
    _require_columns(spec, prepared, prepared_columns(spec))
    return prepared.set_index(prepared[spec.id_column].rename(None))


def unparsed_dates(
    spec: EntitySpec, records: pd.DataFrame, prepared: pd.DataFrame
) -> dict[str, int]:
    """Per date column of the spec: the present values of `records` that did not parse."""
    return {
        column: unparsed_count(cast(pd.Series, records[column]), cast(pd.Series, prepared[column]))
        for column, _ in spec.dates
    }


def _require_columns(spec: EntitySpec, records: pd.DataFrame, columns: list[str]) -> None:
    missing = [column for column in columns if column not in records.columns]
    if missing:
        raise ValueError(
            f"spec {spec.name!r} reads columns {missing}, which the records lack;"
            f" their columns are {list(records.columns)}"
        )


def prepared_columns(spec: EntitySpec) -> list[str]:
    """The prepared columns that blocking and comparing read."""
    used = [*(column for keys in spec.blocking for column in keys), *spec.sorted_neighbourhood]
    used += [column for comparison in spec.comparisons for column in comparison.columns]
    return list(dict.fromkeys(used))


def candidate_pairs(
    spec: EntitySpec, records: pd.DataFrame, against: pd.DataFrame | None = None
) -> pd.MultiIndex:
    """The union of the candidate pairs of every blocking and sorted-neighbourhood pass."""
    left = prepare_records(spec, records)
    right = None if against is None else prepare_records(spec, against)
    return index_pairs(spec, left, right)


def index_pairs(
    spec: EntitySpec, left: pd.DataFrame, right: pd.DataFrame | None = None
) -> pd.MultiIndex:
    """Candidate pairs of already prepared records (see `prepare_records`)."""
    if full_index_size(*[frame for frame in (left, right) if frame is not None]) == 0:
        return pd.MultiIndex.from_arrays([[], []], names=["left_id", "right_id"])
    passes = [Block(list(keys)) for keys in spec.blocking] + [
        SortedNeighbourhood(column, window=spec.sorted_neighbourhood_window)
        for column in spec.sorted_neighbourhood
    ]
    left_ids = pd.Index(left.index.unique()).sort_values()
    right_ids = left_ids if right is None else pd.Index(right.index.unique()).sort_values()
    codes = np.unique(
        np.concatenate(
            [_pair_codes(each.index(left, right), left_ids, right_ids) for each in passes]
        )
    )
    width = len(right_ids)
    return pd.MultiIndex(
        levels=[left_ids, right_ids],
        codes=[codes // width, codes % width],
        names=["left_id", "right_id"],
        verify_integrity=False,
    )


def _pair_codes(pairs: pd.MultiIndex, left_ids: pd.Index, right_ids: pd.Index) -> np.ndarray:
    """Each pair as one integer that sorts as the pair does.

    The passes are merged as these codes: recordlinkage's `MultiIndex.union` of them took
    160 of 200 s for 37M pairs (a day of 1M listens), this a few seconds."""
    left = left_ids.get_indexer(pairs.levels[0])[pairs.codes[0]]
    right = right_ids.get_indexer(pairs.levels[1])[pairs.codes[1]]
    return left.astype(np.int64) * len(right_ids) + right


def pass_members(
    spec: EntitySpec, pairs: pd.MultiIndex, left: pd.DataFrame, right: pd.DataFrame
) -> np.ndarray:
    """For each pair (a row) and blocking pass (a column): whether the two records agree,
    with no value missing, on every key of the pass (the pair is one of the pass's)."""
    left_rows = left.index.get_indexer(pairs.levels[0])[pairs.codes[0]]
    right_rows = right.index.get_indexer(pairs.levels[1])[pairs.codes[1]]
    members = np.ones((len(pairs), len(spec.blocking)), dtype=bool)
    for position, keys in enumerate(spec.blocking):
        for key in keys:
            values = pd.concat([cast(pd.Series, left[key]), cast(pd.Series, right[key])])
            codes = pd.factorize(values.to_numpy())[0]
            left_codes, right_codes = codes[: len(left)], codes[len(left) :]
            agree = left_codes[left_rows] == right_codes[right_rows]
            members[:, position] &= agree & (left_codes[left_rows] >= 0)
    return members


def comparisons_fitted_by_pass(spec: EntitySpec, keys: tuple[str, ...]) -> tuple[str, ...]:
    """The labels of the comparisons a pass does not select on.

    A pass's pairs agree on its keys, so among them a comparison of a key says nothing of how
    often true matches agree: it is left out of the pass's fit (as Splink's training on a
    blocking rule does). A key selects on a comparison when it is one of its columns or is
    derived from one: its first word is a word of the column's name (`given_name_sound` and
    `given_initial` of `given_name`, `birth_year` of `date_of_birth`, `home_phone` of a home
    over `home_street` and `home_phone`, `by` of `by_text`).
    """
    stems = {key.split("_")[0] for key in keys}
    return tuple(
        comparison.label
        for comparison in spec.comparisons
        if not any(stems & set(column.split("_")) for column in comparison.columns)
    )
