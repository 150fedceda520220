"""Deepchecks' model-evaluation suite for a trained classifier on its held-out set.

Called by the training code with the frames and model it already holds; the report goes to
`out_dir/model_evaluation.html` (plotly shared in `out_dir`), ready to be linked from the
materialisation and logged as an MLflow artifact (`mlflow.log_artifacts(out_dir)`).
"""

from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from upath import UPath

from dataplatform.quality.html import write_report
from dataplatform.quality.reports import QualityReport, categorical_columns, summarise

REPORT_NAME = "model_evaluation.html"


def model_evaluation_report(
    train: pd.DataFrame, test: pd.DataFrame, label: str, model: Any, out_dir: str | Path | UPath
) -> QualityReport:
    """`model` is any scikit-learn-like classifier with `predict`/`predict_proba`, trained on
    arrays of the feature columns (every column but `label`). It is typed `Any`: scikit-learn
    declares no types, and its pipelines' methods match no protocol."""
    # Imported here: deepchecks takes seconds to import, and every process loads this module.
    from deepchecks.tabular import Dataset
    from deepchecks.tabular.suites import model_evaluation

    features = [column for column in train.columns if column != label]
    categorical = categorical_columns(cast(pd.DataFrame, train[features]))
    train_set = Dataset(train, label=label, cat_features=categorical, features=features)
    test_set = Dataset(test, label=label, cat_features=categorical, features=features)
    result = model_evaluation().run(train_set, test_set, ArrayInput(model), with_display=True)  # pyright: ignore[reportArgumentType]  # deepchecks' BasicModel wants predict to return a list; arrays work
    root = UPath(out_dir)
    path = write_report(result, root / REPORT_NAME, root, "Model evaluation")
    return summarise(result, str(path), len(test), len(train) + len(test))


class ArrayInput:
    """The classifier fed arrays, as it was trained (deepchecks hands it DataFrames)."""

    def __init__(self, classifier: Any) -> None:
        self.classifier = classifier
        self.classes_ = classifier.classes_

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self.classifier.predict(np.asarray(features))

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return self.classifier.predict_proba(np.asarray(features))
