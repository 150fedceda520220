"""Sentiment training on 100,000 demo reviews: wall time, peak memory, each step's share.

`python -m bench.bench_models [REVIEWS]`: a fresh interpreter generates REVIEWS reviews
(default 100,000) with the demo API's review-text generator, labels them from their ratings
(3 stars left out), and runs the `models/sentiment_model` training code: Word2Vec, document
vectors and all three candidates on one split. Peak RSS includes the generated corpus.
The same training with the SVM at scikit-learn's default tolerance follows, as the baseline
of the platform's looser one.
"""

import json
import resource
import sys
import time

import numpy as np
import pandas as pd

from bench.common import markdown_table, measure_in_child
from dataplatform.demo_api.review_text import review_sentences, sentiment_of_ratings
from dataplatform.models.embeddings import EmbeddingParams
from dataplatform.models.sentiment import CandidateParams, labelled_reviews, train_sentiment

SENTIMENT_REVIEWS = 100_000
SENTIMENT_RATING_WEIGHTS = [0.1, 0.1, 0.15, 0.3, 0.35]


def sentiment_reviews(count: int, seed: int = 42) -> pd.DataFrame:
    """`count` demo reviews: ratings, and text whose sentiment follows them (with noise)."""
    keys = np.arange(count, dtype=np.uint64)
    ratings = np.random.default_rng(seed).choice(
        np.arange(1, 6), size=count, p=SENTIMENT_RATING_WEIGHTS
    )
    sentiments = sentiment_of_ratings(seed, "bench.reviews", ratings, keys)
    texts = review_sentences(seed, "bench.reviews", sentiments, keys)
    return pd.DataFrame({"text": texts, "rating": ratings})


SCIKIT_LEARN_SVM_TOLERANCE = 1e-4
REPORTED_METRICS = ("accuracy", "balanced_accuracy", "recall_negative", "roc_auc")


def sentiment_training(count: int, svm_tolerance: float) -> dict:
    """Runs in the child: trains on `count` reviews and reports time, memory and steps."""
    labelled = labelled_reviews(sentiment_reviews(count))
    started = time.perf_counter()
    training = train_sentiment(
        labelled, EmbeddingParams(), CandidateParams(svm_tolerance=svm_tolerance)
    )
    seconds = time.perf_counter() - started
    return {
        "reviews": count,
        "labelled": len(labelled),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "steps": {name: round(value, 2) for name, value in training.step_seconds.items()},
        "metrics": {
            result.name: {name: round(result.metrics[name], 4) for name in REPORTED_METRICS}
            for result in training.results
        },
    }


def sentiment_section(count: int = SENTIMENT_REVIEWS) -> str:
    tolerance = CandidateParams().svm_tolerance
    result = measure_in_child("bench.bench_models", "--child", str(count), str(tolerance))
    baseline = measure_in_child(
        "bench.bench_models", "--child", str(count), str(SCIKIT_LEARN_SVM_TOLERANCE)
    )
    rows = [
        [
            name,
            f"{seconds:.1f}",
            f"{100 * seconds / result['seconds']:.0f}%",
            f"{baseline['steps'][name]:.1f}",
        ]
        for name, seconds in result["steps"].items()
    ]
    rows.append(["total", f"{result['seconds']:.1f}", "100%", f"{baseline['seconds']:.1f}"])
    return "\n".join(
        [
            f"{result['reviews']:,} reviews ({result['labelled']:,} labelled, 3 stars left out):"
            f" training took **{result['seconds']:.1f} s**, peak RSS"
            f" **{result['peak_rss_mb']:.0f} MB** (corpus included); with the SVM at"
            f" scikit-learn's default tolerance ({SCIKIT_LEARN_SVM_TOLERANCE:g}, the platform"
            f" uses {tolerance:g}) **{baseline['seconds']:.1f} s**.",
            "",
            markdown_table(
                [
                    "step",
                    "seconds",
                    "share",
                    f"seconds, SVM tolerance {SCIKIT_LEARN_SVM_TOLERANCE:g}",
                ],
                rows,
            ),
            "",
            f"Held-out scores (tolerance {tolerance:g} / {SCIKIT_LEARN_SVM_TOLERANCE:g}):",
            "",
            markdown_table(
                ["candidate", *REPORTED_METRICS],
                [
                    [name]
                    + [
                        f"{metrics[metric]:.3f} / {baseline['metrics'][name][metric]:.3f}"
                        for metric in REPORTED_METRICS
                    ]
                    for name, metrics in result["metrics"].items()
                ],
            ),
        ]
    )


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(sentiment_training(int(sys.argv[2]), float(sys.argv[3]))))
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else SENTIMENT_REVIEWS
    print(sentiment_section(count))


if __name__ == "__main__":
    main()
