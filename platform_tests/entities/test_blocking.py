"""Blocking passes: which pass proposed a pair, and which comparisons each pass fits."""

import numpy as np
import pandas as pd

from dataplatform.entities.blocking import comparisons_fitted_by_pass, pass_members
from dataplatform.entities.platform_specs import USERS
from dataplatform.entities.spec import Comparison, EntitySpec

SPEC = EntitySpec(
    name="people",
    id_column="id",
    blocking=(("surname_sound", "birth_year"), ("email",)),
    comparisons=(
        Comparison("given_name", "jarowinkler", "given_name", None, swap_with="surname"),
        Comparison("date_of_birth", "exact", "date_of_birth", None),
        Comparison("email", "exact", "email", None),
        Comparison(("street", "phone"), "exact", "home", None),
    ),
    classifier="fellegi_sunter",
)


def test_a_pair_belongs_to_the_passes_whose_keys_it_agrees_on_with_none_missing() -> None:
    records = pd.DataFrame(
        {
            "surname_sound": ["D500", "D500", "D500", None],
            "birth_year": [1980, 1980, 1981, 1980],
            "email": ["a@x.fr", "a@x.fr", None, None],
        },
        index=pd.Index([10, 11, 12, 13]),
    )
    pairs = pd.MultiIndex.from_tuples([(10, 11), (10, 12), (12, 13), (11, 10)])

    members = pass_members(SPEC, pairs, records, records)

    expected = [[True, True], [False, False], [False, False], [True, True]]
    np.testing.assert_array_equal(members, expected)


def test_a_pass_fits_the_comparisons_whose_columns_none_of_its_keys_names_or_derives() -> None:
    assert comparisons_fitted_by_pass(SPEC, ("surname_sound", "birth_year")) == ("email", "home")
    assert comparisons_fitted_by_pass(SPEC, ("email",)) == ("given_name", "date_of_birth", "home")
    assert comparisons_fitted_by_pass(SPEC, ("phone",)) == ("given_name", "date_of_birth", "email")


def test_the_users_phone_pass_fits_the_birth_date_and_the_date_pass_the_home() -> None:
    passes = {keys: comparisons_fitted_by_pass(USERS, keys) for keys in USERS.blocking}

    assert passes[("given_initial", "home_phone")] == ("date_of_birth",)
    assert passes[("given_name_sound", "date_of_birth")] == ("home",)
