"""Stateless vectorised 64-bit hashing: every random attribute is a pure function of its keys."""

from __future__ import annotations

import zlib
from functools import cache

import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_UNIT_SCALE = 2.0**-53


def splitmix64(values: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser applied elementwise to a uint64 array (a new array)."""
    with np.errstate(over="ignore"):
        mixed = values + _GAMMA
        mixed ^= mixed >> np.uint64(30)
        mixed *= _MIX1
        mixed ^= mixed >> np.uint64(27)
        mixed *= _MIX2
        mixed ^= mixed >> np.uint64(31)
    return mixed


@cache
def _start_state(seed: int, salt: str) -> np.uint64:
    salted = (seed & 0xFFFFFFFFFFFFFFFF) ^ (zlib.crc32(salt.encode()) << 32)
    return splitmix64(np.array([salted], dtype=np.uint64))[0]


def hash64(seed: int, salt: str, *keys: np.ndarray | int) -> np.ndarray:
    """Hash (seed, salt, *keys) to uint64, broadcasting the keys against each other."""
    state = np.atleast_1d(_start_state(seed, salt))
    for key in keys:
        state = splitmix64(state ^ np.asarray(key).astype(np.uint64))
    return state


def unit(seed: int, salt: str, *keys: np.ndarray | int) -> np.ndarray:
    """Uniform floats in [0, 1) derived from hash64."""
    return (hash64(seed, salt, *keys) >> np.uint64(11)).astype(np.float64) * _UNIT_SCALE


def pick(seed: int, salt: str, count: int | np.ndarray, *keys: np.ndarray | int) -> np.ndarray:
    """Uniform integers in [0, count) derived from hash64; count may vary per element."""
    return (hash64(seed, salt, *keys) % np.asarray(count).astype(np.uint64)).astype(np.int64)


def weighted_pick(uniforms: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Map uniforms in [0, 1) to indices drawn proportionally to weights (inverse CDF)."""
    if len(uniforms) == 0:
        return np.zeros(0, dtype=np.int64)
    cumulative = np.cumsum(weights, dtype=np.float64)
    positions = np.searchsorted(cumulative, uniforms * cumulative[-1], side="right")
    return np.minimum(positions, len(weights) - 1)


def standard_normal(seed: int, salt: str, *keys: np.ndarray | int) -> np.ndarray:
    """Standard normal draws via Box-Muller over two hashed uniforms."""
    radius = np.sqrt(-2.0 * np.log1p(-unit(seed, salt + ".radius", *keys)))
    return radius * np.cos(2.0 * np.pi * unit(seed, salt + ".angle", *keys))


def systematic_sample(weights: np.ndarray, count: int, offset: float) -> np.ndarray:
    """`count` ascending indices, index i repeated about count * weights[i] / sum(weights) times.

    Evenly spaced pointers (shifted by `offset` in [0, 1)) walk the cumulative weights: linear
    time rather than a binary search per draw, and exactly `count` draws.
    """
    if count == 0 or len(weights) == 0:
        return np.zeros(0, dtype=np.int64)
    expected = np.cumsum(weights, dtype=np.float64)
    if expected[-1] <= 0:
        expected = np.arange(1.0, len(weights) + 1.0)
    expected *= count / expected[-1]
    taken = np.floor(expected + offset).astype(np.int64)
    taken[-1] = count
    return np.repeat(np.arange(len(weights)), np.diff(taken, prepend=0))
