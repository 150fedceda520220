"""Known true entities, when a table has them: what entity resolution is measured against."""

from typing import cast

import dagster as dg
import pandas as pd

TRUE_ENTITY_ID = "true_entity_id"


class EntityTruth(dg.ConfigurableResource):
    """Known true entities, to measure quality: a Parquet file with the table's id column and
    `true_entity_id`. An empty `labels_path` means the truth is unknown."""

    labels_path: str = ""

    def labels(self, id_column: str) -> pd.Series | None:
        """True entity id by record id, or None when unknown."""
        if not self.labels_path:
            return None
        labels = pd.read_parquet(self.labels_path, columns=[id_column, TRUE_ENTITY_ID])
        return cast(pd.Series, labels.set_index(id_column)[TRUE_ENTITY_ID])
