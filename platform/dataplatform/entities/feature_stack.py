"""Feature frames of pairs read as one table, row after row, without copying them into one.

A classifier is fitted on a day's candidate pairs and on training pairs; at a million users a
day those features are a quarter of a gigabyte, and one concatenated copy of them set the peak
memory of the whole increment.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Rows read at once by `FeatureStack.column_chunks`: its readers make a few temporary arrays
# of a chunk's length.
CHUNK_ROWS = 1_000_000


@dataclass(frozen=True)
class FeatureStack:
    """The rows of `parts` (frames with the same columns) one after another."""

    parts: tuple[pd.DataFrame, ...]

    @classmethod
    def of(cls, features: "pd.DataFrame | FeatureStack") -> "FeatureStack":
        return features if isinstance(features, FeatureStack) else cls((features,))

    @property
    def columns(self) -> pd.Index:
        return self.parts[0].columns

    @property
    def starts(self) -> np.ndarray:
        """Each part's first row in the stack."""
        return np.cumsum([0, *(len(part) for part in self.parts[:-1])])

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    def column_chunks(self, label: str) -> Iterator[tuple[slice, np.ndarray]]:
        """The column's values (float64) by consecutive chunks of at most `CHUNK_ROWS`
        rows, each with its rows in the stack."""
        for part, start in zip(self.parts, self.starts, strict=True):
            values = part[label].to_numpy(dtype=np.float64)
            for offset in range(0, len(values), CHUNK_ROWS):
                chunk = values[offset : offset + CHUNK_ROWS]
                yield slice(start + offset, start + offset + len(chunk)), chunk

    def values(self, rows: np.ndarray) -> pd.DataFrame:
        """The features (float64) at positions `rows` of the stack, in that order, under a
        default index: joining the parts' pair indexes would cost more than the values."""
        taken = np.empty((len(rows), len(self.columns)))
        part_of_row = self._part_of_row(rows)
        for number, (part, start) in enumerate(zip(self.parts, self.starts, strict=True)):
            inside = part_of_row == number
            taken[inside] = part.to_numpy(dtype=np.float64)[rows[inside] - start]
        return pd.DataFrame(taken, columns=self.columns, copy=False)

    def take(self, rows: np.ndarray) -> pd.DataFrame:
        """The rows at positions `rows` of the stack, in that order, with their index."""
        if len(self.parts) == 1:
            return self.parts[0].iloc[rows]
        part_of_row = self._part_of_row(rows)
        pieces = [
            part.iloc[rows[part_of_row == number] - start]
            for number, (part, start) in enumerate(zip(self.parts, self.starts, strict=True))
        ]
        by_part = np.argsort(part_of_row, kind="stable")
        return pd.concat(pieces).iloc[np.argsort(by_part, kind="stable")]

    def _part_of_row(self, rows: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, rows, side="right") - 1
