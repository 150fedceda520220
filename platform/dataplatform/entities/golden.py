"""Golden records: one record per entity, its values chosen by survivorship."""

from typing import cast

import pandas as pd

from dataplatform.entities.clustering import ENTITY_ID
from dataplatform.entities.spec import EntitySpec


def golden_records(spec: EntitySpec, records: pd.DataFrame, entities: pd.DataFrame) -> pd.DataFrame:
    """One record per entity by survivorship: most recent, most complete.

    For each column the golden value is the value of the most recent member record
    (by `recency_column`; input order when the spec has none) among those where it is not
    null, so a newer record wins but never blanks out a value an older record knew. Adds
    `member_count`; the record id column is replaced by `entity_id`.
    """
    members = records.merge(entities[[spec.id_column, ENTITY_ID]], on=spec.id_column)
    if spec.recency_column is not None:
        members = members.sort_values(
            spec.recency_column, ascending=False, na_position="last", kind="stable"
        )
    grouped = members.drop(columns=spec.id_column).groupby(ENTITY_ID, sort=True)
    golden = grouped.first()
    golden.insert(0, "member_count", cast(pd.Series, grouped.size()))
    return golden.reset_index()
