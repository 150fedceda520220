"""Sentiment training code: labels, split, deterministic embeddings, real-data accuracy."""

import io
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dataplatform.models.embeddings import EmbeddingParams, document_vectors, train_word2vec
from dataplatform.models.sentiment import (
    NEGATIVE,
    POSITIVE,
    CandidateParams,
    SentimentModel,
    best_candidate,
    confusion_matrix_figure,
    labelled_reviews,
    polarity_corpus_path,
    read_polarity_corpus,
    roc_curve_figure,
    split_labelled,
    train_sentiment,
)

SMALL_CANDIDATES = CandidateParams(gradient_boosting_estimators=30, mlp_hidden_units=16)
VECTORS_DIGEST = """
import hashlib, sys
from dataplatform.models.embeddings import EmbeddingParams, train_word2vec
texts = ["good great song"] * 5 + ["bad awful noise"] * 5 + ["not good at all"] * 3
vectors = train_word2vec(texts, EmbeddingParams(vector_size=8, epochs=3, min_count=1))
print(hashlib.sha256(vectors.vectors.tobytes()).hexdigest())
"""


def test_ratings_become_labels_and_three_stars_are_left_out() -> None:
    reviews = pd.DataFrame({"text": ["a", "b", "c", "d", "e", None], "rating": [1, 2, 3, 4, 5, 5]})

    labelled = labelled_reviews(reviews)

    assert labelled["text"].tolist() == ["a", "b", "d", "e"]
    assert labelled["label"].tolist() == [NEGATIVE, NEGATIVE, POSITIVE, POSITIVE]


def test_split_is_stratified_repeatable_and_caps_only_the_training_part() -> None:
    labelled = pd.DataFrame({"text": [f"t{i}" for i in range(100)], "label": [0] * 80 + [1] * 20})

    first, again = split_labelled(labelled, seed=7), split_labelled(labelled, seed=7)
    capped = split_labelled(labelled, seed=7, max_training_rows=20)

    assert first.test_text == again.test_text and first.train_text == again.train_text
    assert first.test_labels.mean() == pytest.approx(0.2)
    assert capped.test_text == first.test_text
    assert len(capped.train_text) == 20 and capped.train_labels.sum() == 4


def test_word2vec_is_identical_across_processes_with_different_hash_seeds() -> None:
    digests = {
        subprocess.run(
            [sys.executable, "-c", VECTORS_DIGEST],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }

    assert len(digests) == 1


def test_document_vectors_average_known_words_and_are_zero_without_any() -> None:
    vectors = train_word2vec(
        ["good song", "bad song"] * 3, EmbeddingParams(vector_size=4, min_count=1)
    )

    features = document_vectors(vectors, ["good song", "unknown words only"])

    assert features[0] == pytest.approx((vectors["good"] + vectors["song"]) / 2)
    assert not features[1].any()


def test_on_pang_lee_polarity_sentences_accuracy_beats_the_majority_baseline() -> None:
    """The 200 labelled sentences are too few to learn embeddings from, so Word2Vec also reads
    the unlabelled Wikipedia text gensim ships next to them; labels come from the corpus only."""
    labelled = read_polarity_corpus(polarity_corpus_path())
    background = (polarity_corpus_path().parent / "head500.noblanks.cor").read_text()
    vectors = train_word2vec(
        [*background.splitlines(), *labelled["text"]], EmbeddingParams(epochs=5, min_count=1)
    )

    training = train_sentiment(labelled, EmbeddingParams(), SMALL_CANDIDATES, vectors)

    majority = max(np.mean(training.split.test_labels), 1 - np.mean(training.split.test_labels))
    assert len(labelled) == 200
    assert best_candidate(training.results, "accuracy").metrics["accuracy"] > majority


def test_candidates_report_metrics_and_images_and_the_model_scores_raw_text() -> None:
    texts = ["great lovely song", "awful boring noise", "lovely great tune", "boring awful mess"]
    labelled = pd.DataFrame({"text": texts * 15, "label": [1, 0, 1, 0] * 15})

    training = train_sentiment(
        labelled, EmbeddingParams(vector_size=8, min_count=1), SMALL_CANDIDATES
    )

    assert [result.name for result in training.results] == [
        "gradient_boosting",
        "svm",
        "neural_network",
    ]
    for result in training.results:
        assert set(result.metrics) == {
            "accuracy",
            "f1",
            "roc_auc",
            "precision_negative",
            "recall_negative",
            "precision_positive",
            "recall_positive",
        }
        for figure in (confusion_matrix_figure(result), roc_curve_figure(result)):
            png = io.BytesIO()
            figure.savefig(png, format="png")
            assert png.getvalue().startswith(b"\x89PNG")
    best = best_candidate(training.results, "accuracy")
    model = SentimentModel(training.vectors, best.classifier)
    scored = model.predict(None, pd.DataFrame({"text": ["great lovely", "awful boring"]}))
    assert scored["label"].tolist() == [1, 0]
    assert model.predict(None, pd.DataFrame({"text": []})).empty
    assert {"word2vec", "fit svm", "document vectors"} <= set(training.step_seconds)
