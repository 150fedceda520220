"""The model-evaluation report for a small scikit-learn classifier on its held-out set."""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from dataplatform.quality.html import SHARED_PLOTLY
from dataplatform.quality.model_evaluation import model_evaluation_report


def labelled(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, 3))
    label = (features[:, 0] + 0.5 * features[:, 1] > 0).astype(int)
    return pd.DataFrame(features, columns=["x0", "x1", "x2"]).assign(label=label)


def test_model_evaluation_report_is_saved_and_summarised(tmp_path: Path) -> None:
    train, test = labelled(300, seed=0), labelled(120, seed=1)
    model = LogisticRegression().fit(train[["x0", "x1", "x2"]].to_numpy(), train["label"])

    report = model_evaluation_report(train, test, "label", model, tmp_path / "eval")

    html = Path(report.path)
    assert html.parent == tmp_path / "eval"
    assert html.stat().st_size < 1_000_000
    assert f'src="{SHARED_PLOTLY}"' in html.read_text()
    assert (tmp_path / "eval" / SHARED_PLOTLY).exists()
    assert report.checks_run >= 5
    assert "train_test_performance" not in report.failed_checks  # a learnable problem
    assert (report.sample_rows, report.total_rows) == (120, 420)
