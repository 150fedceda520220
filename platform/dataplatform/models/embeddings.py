"""Word2Vec embeddings of review text and the document vectors built from them.

Training is deterministic given a seed: one worker thread (several threads interleave
updates in a scheduling-dependent order), gensim's `seed` (gensim 4 draws every initial
vector from one generator seeded with it), and a `hashfxn` that does not depend on Python's
per-process salted `hash` (gensim still calls `hashfxn` to seed vectors on its older,
deprecated path; the default `hash` would make that depend on `PYTHONHASHSEED`). A test
trains in two processes with different `PYTHONHASHSEED` and compares the vectors.
"""

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from gensim.models import KeyedVectors, Word2Vec
from gensim.utils import simple_preprocess


@dataclass(frozen=True)
class EmbeddingParams:
    vector_size: int = 100
    window: int = 5
    min_count: int = 2
    epochs: int = 10
    skip_gram: bool = False
    seed: int = 42


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, keeping short words such as "not" that carry sentiment."""
    return simple_preprocess(text, min_len=1, max_len=30)


def stable_hash(text: str) -> int:
    """A hash that is the same in every process, unlike the salted built-in `hash`."""
    return zlib.crc32(text.encode("utf-8"))


def train_word2vec(texts: Iterable[str], params: EmbeddingParams) -> KeyedVectors:
    sentences = [tokenize(text) for text in texts]
    model = Word2Vec(
        sentences=sentences,
        vector_size=params.vector_size,
        window=params.window,
        min_count=params.min_count,
        epochs=params.epochs,
        sg=int(params.skip_gram),
        seed=params.seed,
        workers=1,
        hashfxn=stable_hash,
    )
    return model.wv


def document_vectors(vectors: KeyedVectors, texts: Sequence[str]) -> np.ndarray:
    """The mean vector of each text's known words (zeros when it has none)."""
    features = np.zeros((len(texts), vectors.vector_size), dtype=np.float32)
    for row, text in enumerate(texts):
        known = [word for word in tokenize(text) if word in vectors.key_to_index]
        if known:
            features[row] = vectors[known].mean(axis=0)
    return features
