"""Splink (DuckDB backend) on a person table, set up as its docs suggest; run in Splink's venv.

Usage: `python splink_people.py SETUP BLOCKING RECORDS.parquet TRUE_LINKS.parquet`, SETUP
one of `SETUPS`, BLOCKING the platform spec's blocking passes as a JSON list of column lists
(so that both candidate sets are the same). The records have a `rec_id` column and the
blocking keys the spec derives; the true links `rec_id_l, rec_id_r`.
Prints one JSON line: seconds (read, train, predict, cluster), Splink's version, and the
precision, recall and F1 of the pairs inside Splink's clusters.
"""

import json
import sys
import time
from dataclasses import dataclass

import duckdb
import splink
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator
from splink_febrl import MATCH_PROBABILITY, pair_quality


@dataclass(frozen=True)
class Setup:
    """Comparisons, the deterministic rules that estimate the share of matching pairs (with
    their guessed recall), the EM training blocks, and columns renamed on reading."""

    comparisons: list[ComparisonCreator]
    deterministic: list[BlockingRuleCreator]
    deterministic_recall: float
    training: list[BlockingRuleCreator]
    renamed: dict[str, str]


# RLdata's birth year, month and day (`by`, `bm`, `bd`), renamed on reading: Splink's SQL
# parser takes a column named `by` for the keyword.
RLDATA_RENAMED = {"by": "birth_year", "bm": "birth_month", "bd": "birth_day"}
BIRTH = tuple(RLDATA_RENAMED.values())

# Names as NameComparison (exact with term frequencies, then Jaro-Winkler levels), each
# birth date part exact; EM once on names (to learn the dates), once on dates (the names).
# A guessed recall of 0.6 or 0.9 for the deterministic rules gave the same F1 within 0.007.
RLDATA = Setup(
    comparisons=[
        cl.NameComparison("fname_c1"),
        cl.NameComparison("fname_c2"),
        cl.NameComparison("lname_c1"),
        cl.NameComparison("lname_c2"),
        cl.ExactMatch("birth_year"),
        cl.ExactMatch("birth_month"),
        cl.ExactMatch("birth_day"),
    ],
    deterministic=[
        block_on("fname_c1", "lname_c1", "birth_year"),
        block_on("fname_c1", "lname_c1", "birth_month", "birth_day"),
    ],
    deterministic_recall=0.8,
    training=[block_on("fname_c1", "lname_c1"), block_on(*BIRTH)],
    renamed=RLDATA_RENAMED,
)
# The obvious per-column setup on the households' prepared records (names folded, phones and
# emails normalised, dates parsed): names, date of birth and email by Splink's comparisons
# for them, the street by Jaro-Winkler, city, postcode and phone exact.
HOUSEHOLDS = Setup(
    comparisons=[
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=False),
        cl.EmailComparison("email"),
        cl.JaroWinklerAtThresholds("street"),
        cl.ExactMatch("city"),
        cl.ExactMatch("postcode"),
        cl.ExactMatch("phone"),
    ],
    deterministic=[block_on("email"), block_on("given_name", "surname", "date_of_birth")],
    deterministic_recall=0.7,
    training=[block_on("given_name", "surname"), block_on("date_of_birth")],
    renamed={},
)
SETUPS = {"rldata": RLDATA, "households": HOUSEHOLDS}


def clusters(
    con: duckdb.DuckDBPyConnection, setup: Setup, blocking: list[list[str]], records_path: str
) -> duckdb.DuckDBPyRelation:
    renames = ", ".join(f'"{old}" as {new}' for old, new in setup.renamed.items())
    columns = f"* rename ({renames})" if renames else "*"
    records = con.sql(f"select {columns} from read_parquet('{records_path}')")
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on(*(setup.renamed.get(column, column) for column in keys)) for keys in blocking
        ],
        comparisons=setup.comparisons,
    )
    linker = Linker(DuckDBAPI(connection=con).register(records), settings, log_level="WARNING")
    linker.training.estimate_probability_two_random_records_match(
        setup.deterministic, recall=setup.deterministic_recall
    )
    # Splink warns that its default of 1e6 random pairs may be too few.
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=2)
    for block in setup.training:
        linker.training.estimate_parameters_using_expectation_maximisation(block)
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=MATCH_PROBABILITY
    )
    return clustered.as_duckdbpyrelation()


def main(setup: str, blocking: str, records_path: str, links_path: str) -> None:
    con = duckdb.connect()
    started = time.perf_counter()
    clustered = clusters(con, SETUPS[setup], json.loads(blocking), records_path).materialize()
    seconds = time.perf_counter() - started
    quality = pair_quality(con, clustered, links_path)
    print(json.dumps({"seconds": round(seconds, 3), "version": splink.__version__, **quality}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
