"""Sentiment classifiers on Word2Vec document vectors: labels, split, candidates, metrics.

Labels come from star ratings: 1-2 stars are negative (0), 4-5 positive (1); 3 stars say
neither, so those reviews are left out of training and evaluation.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias, cast

import gensim
import matplotlib

matplotlib.use("Agg")  # render to files: servers have no display

import numpy as np
import pandas as pd
from gensim.models import KeyedVectors
from matplotlib.figure import Figure
from mlflow.pyfunc.model import PythonModel
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    RocCurveDisplay,
    accuracy_score,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from dataplatform.models.embeddings import EmbeddingParams, document_vectors, train_word2vec

NEGATIVE, POSITIVE = 0, 1
CLASS_NAMES = {NEGATIVE: "negative", POSITIVE: "positive"}

# What `candidate_classifiers` builds: an estimator, or a pipeline ending in one.
Classifier: TypeAlias = HistGradientBoostingClassifier | Pipeline


@dataclass(frozen=True)
class CandidateParams:
    """Hyperparameters of the three candidates, small enough to train on 100,000 reviews."""

    gradient_boosting_estimators: int = 100
    gradient_boosting_depth: int = 3
    svm_c: float = 1.0
    mlp_hidden_units: int = 64
    mlp_max_iter: int = 200
    seed: int = 42


@dataclass(frozen=True)
class Split:
    train_text: list[str]
    test_text: list[str]
    train_labels: np.ndarray
    test_labels: np.ndarray


@dataclass(frozen=True)
class CandidateResult:
    name: str
    classifier: Classifier
    metrics: dict[str, float]
    test_labels: np.ndarray
    positive_probability: np.ndarray


@dataclass
class StepTimer:
    """Wall seconds per named step, so reports can show where training time goes."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def labelled_reviews(reviews: pd.DataFrame) -> pd.DataFrame:
    """`text` and `label` for reviews with a text and a non-neutral rating."""
    rated = reviews.dropna(subset=["text", "rating"])
    rating = rated["rating"].astype(int)
    keep = rating != 3
    texts = cast(pd.Series, rated["text"][keep])
    return pd.DataFrame(
        {
            "text": texts.astype(str).to_numpy(),
            "label": np.where(rating[keep] >= 4, POSITIVE, NEGATIVE),
        }
    )


def polarity_corpus_path() -> Path:
    """gensim's shipped Pang & Lee movie-review sentences, labelled by polarity."""
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


def split_labelled(
    labelled: pd.DataFrame,
    test_size: float = 0.25,
    seed: int = 42,
    max_training_rows: int | None = None,
) -> Split:
    """A stratified split, the same for every candidate (and every run with the same seed).

    `max_training_rows` caps the training part only (stratified), so runs with different caps
    are still evaluated on the same held-out set.
    """
    train, test = cast(
        list[pd.DataFrame],
        train_test_split(
            labelled, test_size=test_size, random_state=seed, stratify=labelled["label"]
        ),
    )
    if max_training_rows is not None and max_training_rows < len(train):
        train, _ = cast(
            list[pd.DataFrame],
            train_test_split(
                train, train_size=max_training_rows, random_state=seed, stratify=train["label"]
            ),
        )
    return Split(
        train_text=train["text"].tolist(),
        test_text=test["text"].tolist(),
        train_labels=train["label"].to_numpy(),
        test_labels=test["label"].to_numpy(),
    )


def candidate_classifiers(params: CandidateParams) -> dict[str, Classifier]:
    return {
        # The histogram variant: exact GradientBoostingClassifier took 30 s on 3,000 reviews.
        "gradient_boosting": HistGradientBoostingClassifier(
            max_iter=params.gradient_boosting_estimators,
            max_depth=params.gradient_boosting_depth,
            early_stopping=False,  # pyright: ignore[reportArgumentType]  # untyped sklearn: str inferred from the "auto" default
            random_state=params.seed,
        ),
        # LinearSVC scales to 100,000 rows (kernel SVC does not); calibration adds probabilities.
        "svm": make_pipeline(
            StandardScaler(),
            CalibratedClassifierCV(
                LinearSVC(C=params.svm_c, random_state=params.seed), cv=3, method="sigmoid"
            ),
        ),
        "neural_network": make_pipeline(
            StandardScaler(),
            MLPClassifier(
                hidden_layer_sizes=(params.mlp_hidden_units,),
                max_iter=params.mlp_max_iter,
                early_stopping=True,
                random_state=params.seed,
            ),
        ),
    }


def classification_metrics(
    labels: np.ndarray, positive_probability: np.ndarray
) -> dict[str, float]:
    predicted = (positive_probability >= 0.5).astype(int)
    precision, recall, _, _ = cast(
        tuple[np.ndarray, np.ndarray, Any, Any],  # per label, as `labels` is given
        precision_recall_fscore_support(
            labels,
            predicted,
            labels=[NEGATIVE, POSITIVE],
            zero_division=0,  # pyright: ignore[reportArgumentType]  # untyped sklearn: str inferred from the "warn" default
        ),
    )
    metrics = {
        "accuracy": accuracy_score(labels, predicted),
        "f1": f1_score(labels, predicted, zero_division=0),  # pyright: ignore[reportArgumentType]  # untyped sklearn: str inferred from the "warn" default
        "roc_auc": roc_auc_score(labels, positive_probability)
        if len(set(labels)) == 2
        else float("nan"),
    }
    for label, name in CLASS_NAMES.items():
        metrics[f"precision_{name}"] = precision[label]
        metrics[f"recall_{name}"] = recall[label]
    return {name: float(value) for name, value in metrics.items()}


def train_candidates(
    train_features: np.ndarray,
    split: Split,
    test_features: np.ndarray,
    params: CandidateParams,
    timer: StepTimer,
) -> list[CandidateResult]:
    results = []
    for name, classifier in candidate_classifiers(params).items():
        with timer.step(f"fit {name}"):
            classifier.fit(train_features, split.train_labels)
        probability = classifier.predict_proba(test_features)[:, 1]
        results.append(
            CandidateResult(
                name=name,
                classifier=classifier,
                metrics=classification_metrics(split.test_labels, probability),
                test_labels=split.test_labels,
                positive_probability=probability,
            )
        )
    return results


def best_candidate(results: list[CandidateResult], metric: str) -> CandidateResult:
    return max(results, key=lambda result: result.metrics[metric])


@dataclass(frozen=True)
class SentimentTraining:
    vectors: KeyedVectors
    split: Split
    results: list[CandidateResult]
    step_seconds: dict[str, float]


def train_sentiment(
    labelled: pd.DataFrame,
    embedding: EmbeddingParams,
    candidates: CandidateParams,
    vectors: KeyedVectors | None = None,
    test_size: float = 0.25,
    max_training_rows: int | None = None,
) -> SentimentTraining:
    """Embeddings (unless given), one split, three candidates: the whole comparison."""
    timer = StepTimer()
    with timer.step("split"):
        split = split_labelled(labelled, test_size, candidates.seed, max_training_rows)
    if vectors is None:
        # Word2Vec is unsupervised: it may see every text, the labels stay with the split.
        with timer.step("word2vec"):
            vectors = train_word2vec(labelled["text"], embedding)
    with timer.step("document vectors"):
        train_features = document_vectors(vectors, split.train_text)
        test_features = document_vectors(vectors, split.test_text)
    results = train_candidates(train_features, split, test_features, candidates, timer)
    return SentimentTraining(vectors, split, results, timer.seconds)


def confusion_matrix_figure(result: CandidateResult) -> Figure:
    predicted = (result.positive_probability >= 0.5).astype(int)
    display = ConfusionMatrixDisplay.from_predictions(
        result.test_labels,
        predicted,
        labels=[NEGATIVE, POSITIVE],
        display_labels=list(CLASS_NAMES.values()),
        colorbar=False,
    )
    display.ax_.set_title(f"{result.name}: confusion matrix")
    return display.figure_


def roc_curve_figure(result: CandidateResult) -> Figure:
    display = RocCurveDisplay.from_predictions(
        result.test_labels, result.positive_probability, name=result.name
    )
    display.ax_.set_title(f"{result.name}: ROC curve")
    return cast(Figure, display.figure_)  # a new figure of its own, never a subfigure


class SentimentModel(PythonModel):
    """Raw review text in, sentiment out: the embeddings and the classifier as one model."""

    def __init__(self, vectors: KeyedVectors, classifier: Classifier) -> None:
        self.vectors = vectors
        self.classifier = classifier

    def predict(self, context: object, model_input: pd.DataFrame, params: dict | None = None):
        texts = model_input["text"].fillna("").astype(str).tolist()
        if not texts:  # scikit-learn refuses an empty batch
            return pd.DataFrame({"label": pd.Series(dtype=int), "positive_probability": []})
        probability = self.classifier.predict_proba(document_vectors(self.vectors, texts))[:, 1]
        return pd.DataFrame(
            {"label": (probability >= 0.5).astype(int), "positive_probability": probability}
        )


def positive_probability_scorer(
    predict: Callable[[pd.DataFrame], pd.DataFrame],
) -> Callable[[list[str]], np.ndarray]:
    """Adapts a loaded pyfunc's `predict` to a list of texts."""
    return lambda texts: predict(pd.DataFrame({"text": texts}))["positive_probability"].to_numpy()
