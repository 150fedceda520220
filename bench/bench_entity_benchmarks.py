"""Entity resolution on person tables with known truth: ours against Splink and stock ECM.

`python -m bench.bench_entity_benchmarks`: RLdata10000 (German people, 10% noisy copies) and
generated people in households (`households.people_in_households`: shared homes and
surnames, twins, 1-3 noisy extra records for 30% of the people), each resolved in one run
by the platform's spec, by Splink set up as its docs suggest (in its own venv,
`bench/.splink-venv`, see `bench_entities`), and by recordlinkage's stock pipeline (its
`Index`, `Compare` and `ECMClassifier` on binary features). All three get the same
blocking passes, so they differ in their comparisons and models only.
"""

import json
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar, cast

import networkx as nx
import pandas as pd
import recordlinkage

from bench.bench_entities import BENCH, rounded, splink_python
from bench.common import markdown_table
from dataplatform.entities.benchmarks import RLDATA, rldata10000
from dataplatform.entities.blocking import prepare_records
from dataplatform.entities.households import people_in_households
from dataplatform.entities.people import HALF_AGREE_LEVELS, NAME_LEVELS, person_prepare
from dataplatform.entities.quality import entity_pairs, pair_quality, true_pairs_from_entities
from dataplatform.entities.resolution import resolve
from dataplatform.entities.spec import Comparison, EntitySpec

# recordlinkage's tutorial threshold for a binary string agreement.
STOCK_STRING_THRESHOLD = 0.85
HEADER = ["seconds", "precision", "recall", "F1"]
HOUSEHOLD_PEOPLE = 3_000  # about 4,300 records
Result = TypeVar("Result")


@dataclass(frozen=True)
class StockSetup:
    """recordlinkage's stock pipeline on a table: Jaro-Winkler agreement (at
    `STOCK_STRING_THRESHOLD`) on the string columns, exact agreement on the others."""

    strings: tuple[str, ...]
    exact: tuple[str, ...]


RLDATA_STOCK = StockSetup(
    strings=("fname_c1", "fname_c2", "lname_c1", "lname_c2"), exact=("by", "bm", "bd")
)


HOUSEHOLDS_STOCK = StockSetup(
    strings=("given_name", "surname", "street", "city"),
    exact=("date_of_birth", "email", "postcode", "phone"),
)

# docs/entities.md's worked example (`PEOPLE` of platform_tests/entities/test_households.py):
# the spec a user would write the obvious way, every column compared, missing values no
# evidence, the household's correlated columns one comparison, blocking on sounds, birth
# date, email and phone; and the same without the phone pass.
HOUSEHOLDS = EntitySpec(
    name="people",
    id_column="record_id",
    blocking=(("given_name_sound", "surname_sound"), ("date_of_birth",), ("email",), ("phone",)),
    comparisons=(
        Comparison(
            "given_name", "jarowinkler", "given_name", None, levels=NAME_LEVELS, swap_with="surname"
        ),
        Comparison(
            "surname", "jarowinkler", "surname", None, levels=NAME_LEVELS, swap_with="given_name"
        ),
        Comparison("date_of_birth", "date_parts", "date_of_birth", None),
        Comparison("email", "exact", "email", None),
        Comparison(
            ("street", "city", "postcode", "phone"),
            "exact",
            "address",
            None,
            levels=HALF_AGREE_LEVELS,
        ),
    ),
    classifier="fellegi_sunter",
    dates=(("date_of_birth", "%Y-%m-%d"),),
    prepare=person_prepare(phone_columns=("phone",), email_columns=("email",)),
)
HOUSEHOLDS_WITHOUT_PHONE_PASS = replace(HOUSEHOLDS, blocking=HOUSEHOLDS.blocking[:-1])


def seconds_of(work: Callable[[], Result]) -> tuple[float, Result]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def ours(spec: EntitySpec, records: pd.DataFrame, true_pairs: pd.MultiIndex) -> dict:
    seconds, resolution = seconds_of(lambda: resolve(spec, records))
    quality = pair_quality(entity_pairs(resolution.entities, spec.id_column), true_pairs)
    return {"seconds": round(seconds, 3), **quality}


def stock_ecm(
    spec: EntitySpec, setup: StockSetup, records: pd.DataFrame, true_pairs: pd.MultiIndex
) -> dict:
    """Blocking keys derived by the spec (not timed), then recordlinkage's own pipeline;
    its links are closed transitively (connected components), as clustering does."""
    prepared = prepare_records(spec, records)
    seconds, links = seconds_of(lambda: stock_links(spec, setup, prepared))
    graph = nx.Graph(list(links))
    graph.add_nodes_from(prepared.index)
    entities = pd.DataFrame(
        [
            (record, entity)
            for entity, part in enumerate(nx.connected_components(graph))
            for record in part
        ],
        columns=pd.Index([spec.id_column, "entity_id"]),
    )
    quality = pair_quality(entity_pairs(entities, spec.id_column), true_pairs)
    return {"seconds": round(seconds, 3), **quality}


def stock_links(spec: EntitySpec, setup: StockSetup, prepared: pd.DataFrame) -> pd.MultiIndex:
    indexer = recordlinkage.Index()
    for keys in spec.blocking:
        indexer.block(list(keys))
    pairs = indexer.index(prepared)
    compare = recordlinkage.Compare()
    for column in setup.strings:
        compare.string(column, column, "jarowinkler", STOCK_STRING_THRESHOLD, label=column)
    for column in setup.exact:
        compare.exact(column, column, label=column)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # recordlinkage's own, about dtypes
        features = compare.compute(pairs, prepared)
    return cast(pd.MultiIndex, recordlinkage.ECMClassifier(binarize=None).fit_predict(features))


def splink(setup: str, spec: EntitySpec, records: pd.DataFrame, true_pairs: pd.MultiIndex) -> dict:
    """Splink on the records with the spec's blocking keys (derived here, not timed)."""
    with tempfile.TemporaryDirectory() as folder:
        records_path, links_path = Path(folder) / "records.parquet", Path(folder) / "links.parquet"
        prepared = prepare_records(spec, records).reset_index(drop=True)
        prepared.rename(columns={spec.id_column: "rec_id"}).to_parquet(records_path)
        pd.DataFrame(true_pairs.to_list(), columns=pd.Index(["rec_id_l", "rec_id_r"])).to_parquet(
            links_path
        )
        blocking = json.dumps([list(keys) for keys in spec.blocking])
        script = [BENCH / "splink_people.py", setup, blocking, records_path, links_path]
        output = subprocess.run(
            [splink_python(), *script], capture_output=True, text=True, check=True
        ).stdout
    return json.loads(output.strip().splitlines()[-1])


def rldata_table() -> str:
    records, truth = rldata10000()
    true_pairs = true_pairs_from_entities(records["rec_id"].to_numpy(), truth.to_numpy())
    splink_result = splink("rldata", RLDATA, records, true_pairs)
    results = {
        "dataplatform (`benchmarks.RLDATA`, fellegi_sunter)": ours(RLDATA, records, true_pairs),
        f"Splink {splink_result['version']} (`splink_people.py` rldata)": splink_result,
        "recordlinkage stock ECM (binary features)": stock_ecm(
            RLDATA, RLDATA_STOCK, records, true_pairs
        ),
    }
    rows = [[name, result["seconds"], *rounded(result)] for name, result in results.items()]
    return markdown_table(["RLdata10000, 10,000 records", *HEADER], rows)


def households_table() -> tuple[str, int, int]:
    """The table, the number of records and of true pairs."""
    records, truth = people_in_households(HOUSEHOLD_PEOPLE, seed=0)
    records = records.reset_index(drop=True)
    true_pairs = true_pairs_from_entities(
        records["record_id"].to_numpy(), truth["entity_id"].to_numpy()
    )
    rows = []
    for passes, spec in (
        ("all passes", HOUSEHOLDS),
        ("without the phone pass", HOUSEHOLDS_WITHOUT_PHONE_PASS),
    ):
        splink_result = splink("households", spec, records, true_pairs)
        results = {
            f"dataplatform (docs' spec, fellegi_sunter), {passes}": ours(spec, records, true_pairs),
            f"Splink {splink_result['version']} (`splink_people.py` households), {passes}": (
                splink_result
            ),
            f"recordlinkage stock ECM (binary features), {passes}": stock_ecm(
                spec, HOUSEHOLDS_STOCK, records, true_pairs
            ),
        }
        rows += [[name, result["seconds"], *rounded(result)] for name, result in results.items()]
    header = [f"households, {len(records):,} records", *HEADER]
    return markdown_table(header, rows), len(records), len(true_pairs)


def main() -> None:
    print(
        "### RLdata10000\n\n"
        f"{rldata_table()}\n\nF1 over the pairs inside the clusters (1,000 true pairs); same"
        " blocking passes for all three (phonetic name keys, birth year, birth date)."
        " Target: F1 >= 0.98 unsupervised.\n"
    )
    table, records, true_pairs = households_table()
    print(
        f"### People in households\n\n{table}\n\n`people_in_households({HOUSEHOLD_PEOPLE:,},"
        f" seed=0)`: {records:,} records, {true_pairs:,} true pairs; same blocking passes and"
        " prepared records (folded names, normalised phones and emails) for all three."
    )


if __name__ == "__main__":
    main()
