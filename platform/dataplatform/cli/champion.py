"""The champion sentiment model of the platform's registry, and texts scored with it."""

from pathlib import Path

import mlflow
import pandas as pd
from mlflow.pyfunc import PyFuncModel

from dataplatform.defs.models.sentiment_assets import MODEL_NAME
from dataplatform.models.registry import RegistryError, load_champion, no_champion_yet
from dataplatform.models.sentiment import CLASS_NAMES
from dataplatform.models.tracking import check_reachable, embedded_tracking_uri
from dataplatform.settings import PlatformSettings


def sentiment_champion(settings: PlatformSettings) -> PyFuncModel:
    """The champion from the MLflow server, or from the embedded store in the data folder."""
    tracking_uri = settings.mlflow_tracking_uri or embedded_tracking_uri(settings.data_dir)
    if tracking_uri.startswith("sqlite:///"):
        if not Path(tracking_uri.removeprefix("sqlite:///")).exists():
            raise RegistryError(no_champion_yet(MODEL_NAME))  # and no empty store is made
    else:
        check_reachable(tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    return load_champion(MODEL_NAME)


def with_predictions(rows: pd.DataFrame, column: str, model: PyFuncModel) -> pd.DataFrame:
    """`rows` with the label and the probability of positive the model gives `column`."""
    predictions = model.predict(pd.DataFrame({"text": rows[column]}))
    return rows.assign(
        predicted_label=predictions["label"].map(CLASS_NAMES).to_numpy(),
        positive_probability=predictions["positive_probability"].to_numpy(),
    )
