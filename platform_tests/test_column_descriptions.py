"""Every column of the declared table contracts has a description, declared once."""

import pytest

from dataplatform.cleaning import tables
from dataplatform.cleaning.spec import TableSpec
from dataplatform.column_descriptions import column_description
from dataplatform.mart.tables import MART_TABLES
from dataplatform.models.recommender import RECOMMENDATION_DTYPES

SPECS = [value for value in vars(tables).values() if isinstance(value, TableSpec)]


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_every_cleaned_column_is_described(spec: TableSpec) -> None:
    assert [c for c in spec.fields if not column_description(spec.name, c)] == []


def test_the_columns_the_mart_and_the_models_add_are_described() -> None:
    added = {(t.name, c) for t in MART_TABLES for c in t.added_columns}
    added |= {("recommendations", c) for c in RECOMMENDATION_DTYPES}
    assert [column for column in sorted(added) if not column_description(*column)] == []


def test_a_tables_own_wording_comes_before_the_shared_one() -> None:
    assert column_description("user_golden", "entity_id") != column_description(
        "user_entities", "entity_id"
    )
    assert column_description("users", "no_such_column") == ""


def test_a_pairs_side_by_side_columns_say_which_account() -> None:
    assert column_description("user_uncertain_pairs", "left_city").startswith(
        "The pair's first account: the city"
    )
    assert column_description("user_uncertain_pairs", "right_nothing") == ""
