"""Histograms of entity resolution (cluster sizes, match scores), saved next to the data."""

import base64
from io import BytesIO
from typing import Any

import dagster as dg
import matplotlib
import numpy as np
import pandas as pd
from upath import UPath

matplotlib.use("Agg")  # no display: plots are rendered to files by worker processes

import matplotlib.pyplot as plt  # after choosing the backend
from matplotlib.figure import Figure


class PlotStore(dg.ConfigurableResource):
    """Where plots go: `<base_path>/<asset/key/path>/<partition>.<name>.png`, beside the
    asset's Parquet file when `base_path` is the IO manager's."""

    base_path: str
    storage_options: dict[str, str] | None = None

    def save(
        self, png: bytes, asset_key: dg.AssetKey, partition_key: str | None, name: str
    ) -> dict[str, dg.MetadataValue]:
        """Writes the PNG; returns metadata linking it (path) and showing it (inline image)."""
        # fsspec options, passed as keywords; typed Any as UPath's **storage_options are.
        options: dict[str, Any] = {**(self.storage_options or {})}
        path = UPath(self.base_path, **options).joinpath(*asset_key.path)
        path.mkdir(parents=True, exist_ok=True)
        path = path.joinpath(f"{partition_key or 'all'}.{name}.png")
        path.write_bytes(png)
        inline = base64.b64encode(png).decode()
        return {
            f"{name}_plot": dg.MetadataValue.path(str(path)),
            f"{name}_image": dg.MetadataValue.md(f"![{name}](data:image/png;base64,{inline})"),
        }


def cluster_size_histogram(entity_ids: pd.Series, title: str) -> bytes:
    """How many entities have 1, 2, 3, ... records."""
    sizes = entity_ids.value_counts().value_counts().sort_index()
    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.bar(sizes.index.astype(str), sizes.to_numpy(), color="#4c72b0")
    axes.set(title=title, xlabel="records per entity", ylabel="entities")
    axes.set_yscale("log")
    return _png(figure)


def score_histogram(score_counts: np.ndarray, threshold: float, title: str) -> bytes:
    """The candidate pairs per match-score bin (equal bins over [0, 1]), with the decision
    threshold marked."""
    figure, axes = plt.subplots(figsize=(6, 3.5))
    edges = np.linspace(0, 1, len(score_counts) + 1)
    axes.stairs(score_counts, edges, fill=True, color="#55a868")
    axes.axvline(threshold, color="#c44e52", linestyle="--", label=f"threshold {threshold:g}")
    axes.set(title=title, xlabel="match score", ylabel="candidate pairs")
    axes.set_yscale("symlog")
    axes.legend()
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return buffer.getvalue()
