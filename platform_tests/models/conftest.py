"""An MLflow of one's own per test: a SQLite tracking store and artifact folder in tmp_path."""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from dataplatform.models.tracking import (
    MlflowTracking,
    embedded_artifact_location,
    embedded_tracking_uri,
)


@dataclass(frozen=True)
class LocalMlflow:
    tracking_uri: str
    artifact_location: str

    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri)

    def resource(self, experiment_name: str = "tests") -> MlflowTracking:
        return MlflowTracking(
            tracking_uri=self.tracking_uri,
            artifact_location=self.artifact_location,
            experiment_name=experiment_name,
        )


@pytest.fixture(scope="session")
def mlflow_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated MLflow database: copying it saves each test MLflow's migrations."""
    data = tmp_path_factory.mktemp("mlflow_template")
    MlflowClient(tracking_uri=embedded_tracking_uri(str(data))).search_experiments()
    return data / "mlflow" / "mlflow.db"


@pytest.fixture
def local_mlflow(
    tmp_path: Path, mlflow_template_db: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalMlflow]:
    data = tmp_path / "mlflow_data"
    (data / "mlflow").mkdir(parents=True)
    shutil.copy(mlflow_template_db, data / "mlflow" / "mlflow.db")
    previous_uri = mlflow.get_tracking_uri()
    local = LocalMlflow(embedded_tracking_uri(str(data)), embedded_artifact_location(str(data)))
    # `mlflow.set_tracking_uri` also sets MLFLOW_TRACKING_URI, which the platform's settings
    # read: monkeypatched, so it is restored and later tests do not track into ./mlflow.db.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", local.tracking_uri)
    mlflow.set_tracking_uri(local.tracking_uri)
    # Runs started outside the resource must not fall into the Default experiment, whose
    # artifacts go to ./mlruns in the working directory.
    experiment_id = local.client().create_experiment(
        "tests", artifact_location=local.artifact_location
    )
    mlflow.set_experiment(experiment_id=experiment_id)
    yield local
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(previous_uri)
