"""Review sentences whose sentiment follows the rating: learnable, with deliberate noise."""

from __future__ import annotations

import numpy as np

from dataplatform.demo_api.hashing import pick, unit
from dataplatform.demo_api.vocab import MIXED_WORDS, NEGATIVE_WORDS, NEUTRAL_WORDS, POSITIVE_WORDS

MIN_WORDS, MAX_WORDS = 6, 25
POSITIVE, NEGATIVE, MIXED = 0, 1, 2
_WORDS = np.array(
    (*NEUTRAL_WORDS, *POSITIVE_WORDS, *NEGATIVE_WORDS, *MIXED_WORDS, "not"), dtype=object
)
_OFFSETS = np.cumsum([0, len(NEUTRAL_WORDS), len(POSITIVE_WORDS), len(NEGATIVE_WORDS)])
_NEUTRAL_START, _POSITIVE_START, _NEGATIVE_START, _MIXED_START = _OFFSETS
_NOT = len(_WORDS) - 1
_SIZES = np.array([len(POSITIVE_WORDS), len(NEGATIVE_WORDS), len(MIXED_WORDS)])
_STARTS = np.array([_POSITIVE_START, _NEGATIVE_START, _MIXED_START])
_SENTIMENT_SLOT_SHARE = 0.3
_OFF_MESSAGE_SHARE = 0.15
_STRAY_WORD_SHARE = 0.1
_NEGATION_SHARE = 0.3


def sentiment_of_ratings(seed: int, salt: str, ratings: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Positive for 4-5 stars, negative for 1-2, mixed for 3; some reviews say otherwise."""
    intended = np.select([ratings >= 4, ratings <= 2], [POSITIVE, NEGATIVE], MIXED)
    off_message = unit(seed, salt + ".off_message", keys) < _OFF_MESSAGE_SHARE
    shifted = (intended + 1 + pick(seed, salt + ".shift", 2, keys)) % 3
    return np.where(off_message, shifted, intended)


def review_sentences(seed: int, salt: str, sentiments: np.ndarray, keys: np.ndarray) -> list[str]:
    """One sentence of 6-25 words per key, mixing neutral filler with sentiment words."""
    slots = np.arange(MAX_WORDS)
    lengths = MIN_WORDS + pick(seed, salt + ".length", MAX_WORDS - MIN_WORDS + 1, keys)
    words = _NEUTRAL_START + pick(seed, salt + ".neutral", len(NEUTRAL_WORDS), keys[:, None], slots)
    is_sentiment_slot = unit(seed, salt + ".slot", keys[:, None], slots) < _SENTIMENT_SLOT_SHARE
    is_sentiment_slot[np.arange(len(keys)), pick(seed, salt + ".anchor", lengths, keys)] = True
    slot_sentiment = _slot_sentiments(seed, salt, sentiments, keys, slots)
    sentiment_words = _STARTS[slot_sentiment] + pick(
        seed, salt + ".word", _SIZES[slot_sentiment], keys[:, None], slots
    )
    words = np.where(is_sentiment_slot, sentiment_words, words)
    words = _negate_some_positives(seed, salt, words, sentiments, keys, slots, is_sentiment_slot)
    texts = _WORDS[words]
    return [
        " ".join(row[:length]).capitalize() + "."
        for row, length in zip(texts.tolist(), lengths.tolist(), strict=True)
    ]


def _slot_sentiments(
    seed: int, salt: str, sentiments: np.ndarray, keys: np.ndarray, slots: np.ndarray
) -> np.ndarray:
    """The review's sentiment per slot, with an occasional stray word of another sentiment."""
    stray = unit(seed, salt + ".stray", keys[:, None], slots) < _STRAY_WORD_SHARE
    other = pick(seed, salt + ".stray_kind", 3, keys[:, None], slots)
    return np.where(stray, other, sentiments[:, None])


def _negate_some_positives(
    seed: int,
    salt: str,
    words: np.ndarray,
    sentiments: np.ndarray,
    keys: np.ndarray,
    slots: np.ndarray,
    is_sentiment_slot: np.ndarray,
) -> np.ndarray:
    """Negative reviews sometimes say 'not great': a positive word after 'not'."""
    negate = (
        is_sentiment_slot
        & (sentiments[:, None] == NEGATIVE)
        & (slots > 0)
        & (unit(seed, salt + ".negate", keys[:, None], slots) < _NEGATION_SHARE)
    )
    negate[:, 1:] &= ~negate[:, :-1]  # no "not not"
    positive_words = _POSITIVE_START + pick(
        seed, salt + ".negated", len(POSITIVE_WORDS), keys[:, None], slots
    )
    words = np.where(negate, positive_words, words)
    words[:, :-1][negate[:, 1:]] = _NOT
    return words
