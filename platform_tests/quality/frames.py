"""Small generated tables for the quality tests: clean ones, and each kind of corruption."""

import numpy as np
import pandas as pd

ROWS = 300
DEVICES = ["mobile", "desktop", "web", "smart_speaker"]


def listens(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "listen_id": [f"L{seed}-{i}" for i in range(rows)],
            "user_id": pd.array(rng.integers(0, 50, rows), dtype="Int64"),
            "ms_played": pd.array(rng.normal(180_000, 30_000, rows).astype(int), dtype="Int64"),
            "device": pd.array(rng.choice(DEVICES, rows), dtype="string"),
            "listened_at": pd.Timestamp("2026-03-04", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 86_400, rows), unit="s"),
        }
    )


def with_nulls(frame: pd.DataFrame, column: str, share: float) -> pd.DataFrame:
    corrupted = frame.copy()
    corrupted.loc[corrupted.sample(frac=share, random_state=1).index, column] = pd.NA
    return corrupted


def with_constant(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame.assign(**{column: pd.array([frame[column].iloc[0]] * len(frame), dtype="string")})


def with_mixed_types(frame: pd.DataFrame, column: str, share: float = 0.05) -> pd.DataFrame:
    values = frame[column].astype(object)
    values.iloc[: int(share * len(frame))] = "n/a"
    return frame.assign(**{column: values})


def shifted(frame: pd.DataFrame, column: str, factor: float) -> pd.DataFrame:
    return frame.assign(**{column: (frame[column] * factor).round().astype("Int64")})


WORDS = ["great", "song", "boring", "loved", "it", "the", "chorus", "too", "long", "catchy"]


def reviews(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "review_id": pd.array([f"R{seed}-{i}" for i in range(rows)], dtype="string"),
            "user_id": pd.array(rng.integers(0, 50, rows), dtype="Int64"),
            "track_id": pd.array(rng.integers(0, 80, rows), dtype="Int64"),
            "rating": pd.array(rng.integers(1, 6, rows), dtype="Int64"),
            "text": pd.array(
                [" ".join(rng.choice(WORDS, rng.integers(4, 9))) for _ in range(rows)],
                dtype="string",
            ),
            "created_at": pd.Timestamp("2026-03-04", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 86_400, rows), unit="s"),
        }
    )
