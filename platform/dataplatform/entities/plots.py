"""Charts of entity resolution (cluster sizes, match scores, match weights), saved next to the
data."""

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


def score_histogram(
    score_counts: np.ndarray,
    threshold: float,
    title: str,
    review_band: tuple[float, float] | None = None,
) -> bytes:
    """The candidate pairs per match-score bin (equal bins over [0, 1]), with the decision
    threshold and, if given, the band of scores offered for review marked."""
    figure, axes = plt.subplots(figsize=(6, 3.5))
    if review_band is not None:
        axes.axvspan(*review_band, color="#dd8452", alpha=0.15, label="review band")
    edges = np.linspace(0, 1, len(score_counts) + 1)
    axes.stairs(score_counts, edges, fill=True, color="#55a868")
    axes.axvline(threshold, color="#c44e52", linestyle="--", label=f"threshold {threshold:g}")
    axes.set(title=title, xlabel="match score", ylabel="candidate pairs")
    axes.set_yscale("symlog")
    axes.legend()
    return _png(figure)


def match_weight_chart(levels: pd.DataFrame, title: str) -> bytes:
    """One bar per comparison level: its match weight log2(m/u), how much agreeing at that
    level says for a match (right) or against one (left). An infinite weight (m or u of 0)
    is drawn at the chart's edge and labelled."""
    names = [
        f"{label} = {level:g}"
        for label, level in zip(levels["comparison"], levels["level"], strict=True)
    ]
    weights = levels["match_weight"].to_numpy(dtype=float)
    finite = weights[np.isfinite(weights)]
    edge = max(float(np.abs(finite).max()) if len(finite) else 1.0, 1.0) * 1.1
    shown = np.clip(np.nan_to_num(weights, nan=0.0, posinf=edge, neginf=-edge), -edge, edge)
    figure, axes = plt.subplots(figsize=(6, 1.2 + 0.3 * len(names)))
    colours = np.where(shown >= 0, "#55a868", "#c44e52")
    positions = np.arange(len(names))
    axes.barh(positions, shown, color=colours)
    axes.set_yticks(positions, names)
    axes.invert_yaxis()  # the spec's order, top down
    for position in np.flatnonzero(np.isinf(weights)):
        label = "inf" if weights[position] > 0 else "-inf"
        axes.annotate(label, (shown[position], position), va="center")
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set(title=title, xlabel="match weight log2(m/u)")
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=80)
    plt.close(figure)
    return buffer.getvalue()
