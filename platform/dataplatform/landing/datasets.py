"""The landing datasets: one folder, one dynamic partition set and one asset each."""

import re
import unicodedata
from dataclasses import dataclass

import dagster as dg
import pyarrow as pa

# Asset key prefix of converted files: not "landing", which is where files are dropped.
LANDED = "landed"
FILE_TAG = "landing/file"
SHA256_TAG = "landing/sha256"


@dataclass(frozen=True)
class LandingDataset:
    name: str
    description: str
    contract: pa.Schema | None = None  # columns every file must bring, with castable types

    @property
    def partitions(self) -> dg.DynamicPartitionsDefinition:
        return dg.DynamicPartitionsDefinition(name=f"landing_{self.name}")

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey([LANDED, self.name])


def partition_key(file_name: str, sha256: str) -> str:
    """Readable and unique per content: the file's name (made safe) and its content hash.

    Letters of any script are kept, in one Unicode form (NFKC: `é` typed either way is one
    character, `ﬁ` becomes `fi`); runs of anything else become `_`, and `...` (refused by Dagster)
    cannot appear."""
    name = unicodedata.normalize("NFKC", file_name)
    safe = re.sub(r"[^\w.-]+", "_", name).strip("_")[:80]
    safe = re.sub(r"\.{2,}", ".", safe) or "file"
    return f"{safe}-{sha256[:12]}"


REVIEWS = LandingDataset(
    name="reviews",
    description="Labelled reviews dropped as files (text and a 1-5 star rating per row).",
    contract=pa.schema([("text", pa.string()), ("rating", pa.int64())]),
)
EXPORTS = LandingDataset(
    name="exports",
    description="Any tabular export dropped as a file (csv, tsv, json, jsonl, xlsx, parquet).",
)
TABULAR_DATASETS = (REVIEWS, EXPORTS)


def landing_job_name(dataset: LandingDataset) -> str:
    """The job that converts one landed file of `dataset`, requested by its sensor."""
    return f"land_{dataset.name}_job"
