"""Households: people who live together and so share a surname, an address and a phone.

About a third of the people live in a household of 2 to 5. Households are laid out over
blocks of user ids: a block holds `BLOCK_SIZE` ids spaced `BLOCK_STRIDE` apart (so that the
members of a household sign up over several days, not all at once), and a seed-picked layout
cuts the block into households. Each position in a household has a rank; the id at rank 0 is
the household's head, whose id keys everything the household shares. A position taken by a
second account is void: that account lives with the person it duplicates.
"""

from __future__ import annotations

import numpy as np

from dataplatform.demo_api.hashing import pick, unit

BLOCK_SIZE = 32
BLOCK_STRIDE = 8
MAX_HOUSEHOLD = 5
# A household of 2-5 (3.5 people on average) starts at one position in eight, so that
# 3.5 / (3.5 + 7) = a third of the people live in one.
_HOUSEHOLD_START = 0.125
_LAYOUT_COUNT = 64
_LAYOUT_SEED = 0  # the layouts are fixed; the config's seed picks one per block
_BLOCK_SPAN = BLOCK_SIZE * BLOCK_STRIDE


def _layouts() -> tuple[np.ndarray, np.ndarray]:
    """Every layout's rank and household size by position, each an array (layout, position)."""
    ranks = np.zeros((_LAYOUT_COUNT, BLOCK_SIZE), dtype=np.int64)
    sizes = np.ones((_LAYOUT_COUNT, BLOCK_SIZE), dtype=np.int64)
    positions = np.arange(BLOCK_SIZE)
    for layout in range(_LAYOUT_COUNT):
        starts = unit(_LAYOUT_SEED, "household.start", layout, positions) < _HOUSEHOLD_START
        drawn = 2 + pick(_LAYOUT_SEED, "household.size", MAX_HOUSEHOLD - 1, layout, positions)
        position = 0
        while position < BLOCK_SIZE:
            size = min(int(drawn[position]) if starts[position] else 1, BLOCK_SIZE - position)
            ranks[layout, position : position + size] = np.arange(size)
            sizes[layout, position : position + size] = size
            position += size
    return ranks, sizes


_RANKS, _SIZES = _layouts()


def _block_positions(seed: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each id's block, its position in the block and the block's layout."""
    offsets = np.asarray(ids, dtype=np.int64) - 1
    spans, within = np.divmod(offsets, _BLOCK_SPAN)
    positions, lanes = np.divmod(within, BLOCK_STRIDE)
    blocks = spans * BLOCK_STRIDE + lanes
    return blocks, positions, pick(seed, "household.layout", _LAYOUT_COUNT, blocks)


def household_ranks(seed: int, ids: np.ndarray) -> np.ndarray:
    """Each id's rank in its household: 0 for the head and for people who live alone."""
    _, positions, layouts = _block_positions(seed, ids)
    return _RANKS[layouts, positions]


def household_sizes(seed: int, ids: np.ndarray) -> np.ndarray:
    """How many positions each id's household has: 1 for people who live alone."""
    _, positions, layouts = _block_positions(seed, ids)
    return _SIZES[layouts, positions]


def household_heads(seed: int, ids: np.ndarray) -> np.ndarray:
    """The id at rank 0 of each id's household: the id itself for people who live alone."""
    ids = np.asarray(ids, dtype=np.int64)
    return ids - household_ranks(seed, ids) * BLOCK_STRIDE
