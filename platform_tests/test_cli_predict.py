"""Predictions on demand from the champion sentiment model: `dataplatform predict` and MLflow's
own scoring server, against a real local MLflow store with a champion trained by the
platform's sentiment code on gensim's labelled Pang & Lee sentences."""

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from dataplatform.cli import main
from dataplatform.cli.errors import EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE
from dataplatform.defs.models.sentiment_assets import MODEL_NAME, PACKAGES
from dataplatform.models.corpora import polarity_corpus_path, read_polarity_corpus
from dataplatform.models.embeddings import EmbeddingParams
from dataplatform.models.registry import CHAMPION, champion_uri
from dataplatform.models.sentiment import (
    CLASS_NAMES,
    CandidateParams,
    SentimentModel,
    best_candidate,
    train_sentiment,
)
from dataplatform.models.tracking import (
    embedded_artifact_location,
    embedded_tracking_uri,
    log_pyfunc,
)

TEXTS = [
    "a gorgeous, witty, seductive movie",
    "the plot is nothing but boilerplate cliches",
    "[bold]not markup[/bold], just words",
]
SERVER_START_SECONDS = 120  # MLflow loads the model and starts uvicorn: slow on a busy machine


@pytest.fixture(scope="module")
def champion_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data folder whose embedded MLflow store holds a sentiment champion."""
    data = tmp_path_factory.mktemp("predict") / "data"
    with pytest.MonkeyPatch.context() as patch:
        # mlflow.set_tracking_uri also sets this variable: restored when the fixture ends.
        patch.setenv("MLFLOW_TRACKING_URI", "")
        previous_uri = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(embedded_tracking_uri(str(data)))
        try:
            register_champion(data)
        finally:
            mlflow.set_tracking_uri(previous_uri)
    yield data


def register_champion(data: Path) -> None:
    """Trains the candidates on the labelled sentences, logs the best as the platform logs its
    sentiment model (a pyfunc scoring raw text) and makes it the champion."""
    training = train_sentiment(
        read_polarity_corpus(polarity_corpus_path()),
        EmbeddingParams(vector_size=20, min_count=1, epochs=20),
        CandidateParams(gradient_boosting_estimators=20, mlp_hidden_units=8, mlp_max_iter=50),
    )
    challenger = best_candidate(training.results, "roc_auc")
    model = SentimentModel(training.vectors, challenger.classifier)
    experiment = mlflow.create_experiment(
        "predict", artifact_location=embedded_artifact_location(str(data))
    )
    with mlflow.start_run(experiment_id=experiment):
        example = pd.DataFrame({"text": training.split.test_text[:5]})
        model_uri = log_pyfunc("sentiment_model", model, example, PACKAGES)
    version = mlflow.register_model(model_uri, MODEL_NAME).version
    MlflowClient().set_registered_model_alias(MODEL_NAME, CHAMPION, str(version))


@pytest.fixture
def platform_data(champion_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The CLI's environment: the embedded store of `champion_data_dir`, no MLflow server."""
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(champion_data_dir))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps at 80 columns when not on a terminal
    previous_uri = mlflow.get_tracking_uri()
    yield champion_data_dir
    mlflow.set_tracking_uri(previous_uri)


def champion_predictions(data: Path, texts: list[str]) -> pd.DataFrame:
    """What the champion itself says, loaded by alias straight from the store."""
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(embedded_tracking_uri(str(data)))
    try:
        model = mlflow.pyfunc.load_model(champion_uri(MODEL_NAME))
    finally:
        mlflow.set_tracking_uri(previous_uri)
    predictions = model.predict(pd.DataFrame({"text": texts}))
    return predictions.assign(label=predictions["label"].map(CLASS_NAMES))


def test_predict_prints_each_texts_label_and_probability_from_the_champion(
    platform_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["predict", *TEXTS])

    shown = capsys.readouterr().out
    assert code == EXIT_OK
    expected = champion_predictions(platform_data, TEXTS)
    for text, label, probability in zip(
        TEXTS, expected["label"], expected["positive_probability"], strict=True
    ):
        row = next(line for line in shown.splitlines() if text in line)
        assert label in row and f"{probability:.3f}" in row


def test_predict_scores_a_csv_files_column_and_writes_its_rows_with_the_predictions(
    platform_data: Path, tmp_path: Path
) -> None:
    reviews, out = tmp_path / "reviews.csv", tmp_path / "predictions.csv"
    pd.DataFrame({"review_id": [11, 12, 13], "review": TEXTS}).to_csv(reviews, index=False)

    code = main(["predict", "--file", str(reviews), "--column", "review", "--output", str(out)])

    assert code == EXIT_OK
    written = pd.read_csv(out)
    expected = champion_predictions(platform_data, TEXTS)
    assert written.columns.tolist() == [
        "review_id",
        "review",
        "predicted_label",
        "positive_probability",
    ]
    assert written["review_id"].tolist() == [11, 12, 13]
    assert written["predicted_label"].tolist() == expected["label"].tolist()
    assert written["positive_probability"].tolist() == pytest.approx(
        expected["positive_probability"].tolist()
    )


def test_predict_writes_csv_to_stdout_for_pipes(
    platform_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["predict", "--output", "-", TEXTS[0]])

    written = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert code == EXIT_OK
    assert written.columns.tolist() == ["text", "predicted_label", "positive_probability"]
    assert written["text"].tolist() == [TEXTS[0]]


def test_a_file_without_the_texts_column_is_a_usage_error_naming_its_columns(
    platform_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pd.DataFrame({"review": TEXTS}).to_csv(tmp_path / "reviews.csv", index=False)

    code = main(["predict", "--file", str(tmp_path / "reviews.csv")])

    assert code == EXIT_USAGE
    assert "has no column 'text' (columns: review)" in capsys.readouterr().err


def test_predict_without_texts_is_a_usage_error(
    platform_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["predict"]) == EXIT_USAGE
    assert "give one or more texts" in capsys.readouterr().err


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


def test_predict_before_any_training_says_so_and_makes_no_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)

    code = main(["predict", TEXTS[0]])

    assert code == EXIT_RUN_FAILED
    assert "has no 'champion' version yet: train it first" in one_error_line(capsys)
    assert not (tmp_path / "data" / "mlflow").exists()


def test_predict_when_no_version_holds_the_alias_says_so(
    platform_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = tmp_path / "data" / "mlflow"
    store.mkdir(parents=True)
    shutil.copy(platform_data / "mlflow" / "mlflow.db", store / "mlflow.db")
    copy_uri = embedded_tracking_uri(str(tmp_path / "data"))
    MlflowClient(tracking_uri=copy_uri).delete_registered_model_alias(MODEL_NAME, CHAMPION)
    monkeypatch.setenv("DATAPLATFORM_DATA_DIR", str(tmp_path / "data"))

    code = main(["predict", TEXTS[0]])

    assert code == EXIT_RUN_FAILED
    assert f"{MODEL_NAME!r} has no 'champion' version yet" in one_error_line(capsys)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_predict_with_an_unreachable_tracking_server_says_so_at_once(
    platform_data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)

    code = main(["predict", TEXTS[0]])

    assert code == EXIT_RUN_FAILED
    assert f"MLflow tracking server {server} is unreachable" in one_error_line(capsys)


def serve_command(port: int) -> list[str]:
    """The documented command (`make serve`), by this interpreter's MLflow."""
    model = ["-m", champion_uri(MODEL_NAME), "--env-manager", "local"]
    return [sys.executable, "-m", "mlflow", "models", "serve", *model, "--port", str(port)]


@pytest.fixture
def scoring_server(champion_data_dir: Path, tmp_path: Path) -> Iterator[str]:
    """`mlflow models serve` on the champion alias, as documented, on a loopback port."""
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        serve_command(port),
        env={
            **os.environ,
            "MLFLOW_TRACKING_URI": embedded_tracking_uri(str(champion_data_dir)),
            # MLflow starts `uvicorn` by name: the virtual environment's, as if activated.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: uvicorn's workers end with it
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_ping(url, server, tmp_path / "serve.log")
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()


def wait_for_ping(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, f"mlflow models serve exited:\n{log.read_text()}"
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    pytest.fail(f"no /ping answer in {SERVER_START_SECONDS} s:\n{log.read_text()}")


def test_mlflow_serves_the_champion_over_http(scoring_server: str, champion_data_dir: Path) -> None:
    request = urllib.request.Request(
        f"{scoring_server}/invocations",
        data=json.dumps(
            {"dataframe_split": {"columns": ["text"], "data": [[text] for text in TEXTS]}}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )

    with urllib.request.urlopen(request, timeout=60) as response:
        predictions = pd.DataFrame(json.load(response)["predictions"])

    expected = champion_predictions(champion_data_dir, TEXTS)
    assert [CLASS_NAMES[label] for label in predictions["label"]] == expected["label"].tolist()
    assert predictions["positive_probability"].tolist() == pytest.approx(
        expected["positive_probability"].tolist()
    )
