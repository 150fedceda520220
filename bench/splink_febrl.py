"""Splink (DuckDB backend) on FEBRL3 with its documented setup; run in Splink's own venv.

Usage: `python splink_febrl.py RECORDS.parquet TRUE_LINKS.parquet`, where the records have a
`rec_id` column and the true links `rec_id_l, rec_id_r`. Prints one JSON line: seconds (read,
train, predict, cluster), Splink's version, and the precision, recall and F1 of the pairs
inside Splink's clusters.
"""

import json
import sys
import time

import duckdb
import splink
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

# Splink's FEBRL3 example (docs/demos/examples/duckdb/febrl3): blocking, comparisons, training.
BLOCKING_RULES = [
    block_on("soc_sec_id"),
    block_on("given_name"),
    block_on("surname"),
    block_on("date_of_birth"),
    block_on("postcode"),
]
DETERMINISTIC_RULES = [
    block_on("soc_sec_id"),
    block_on("given_name", "surname", "date_of_birth"),
    "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
]
MATCH_PROBABILITY = 0.5


def settings() -> SettingsCreator:
    return SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=BLOCKING_RULES,
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
    )


def clusters(con: duckdb.DuckDBPyConnection, records_path: str) -> duckdb.DuckDBPyRelation:
    records = con.sql(f"select * from read_parquet('{records_path}')")
    api = DuckDBAPI(connection=con)
    linker = Linker(api.register(records), settings(), log_level="WARNING")
    linker.training.estimate_probability_two_random_records_match(DETERMINISTIC_RULES, recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=MATCH_PROBABILITY
    )
    return clustered.as_duckdbpyrelation()


def pair_quality(
    con: duckdb.DuckDBPyConnection, clustered: duckdb.DuckDBPyRelation, links_path: str
) -> dict[str, float]:
    con.register("clustered", clustered)
    found, true, correct = con.execute(
        f"""
        with predicted as (
            select l.rec_id as a, r.rec_id as b
            from clustered l join clustered r
              on l.cluster_id = r.cluster_id and l.rec_id < r.rec_id
        ), truth as (
            select least(rec_id_l, rec_id_r) as a, greatest(rec_id_l, rec_id_r) as b
            from read_parquet('{links_path}')
        )
        select (select count(*) from predicted), (select count(*) from truth),
               (select count(*) from predicted join truth using (a, b))
        """
    ).fetchone()
    precision, recall = correct / max(found, 1), correct / max(true, 1)
    f1 = 2 * precision * recall / (precision + recall) if correct else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def main(records_path: str, links_path: str) -> None:
    con = duckdb.connect()
    started = time.perf_counter()
    clustered = clusters(con, records_path).materialize()
    seconds = time.perf_counter() - started
    quality = pair_quality(con, clustered, links_path)
    print(json.dumps({"seconds": round(seconds, 3), "version": splink.__version__, **quality}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
