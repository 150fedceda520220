"""Deepchecks' data-integrity suite on one partition of a table."""

from collections.abc import Sequence

import pandas as pd
from deepchecks.tabular import Dataset, Suite
from deepchecks.tabular.checks import PercentOfNulls
from deepchecks.tabular.suites import data_integrity

from dataplatform.quality.reports import (
    QualityReport,
    ReportStore,
    categorical_columns,
    deepchecks_frame,
    list_columns,
    sample,
    summarise,
)

# Nullable columns have some nulls by design; a column more than a fifth empty is broken.
MAX_NULL_SHARE = 0.2


def integrity_suite() -> Suite:
    """Deepchecks' data-integrity suite plus a null-share condition it lacks by default."""
    suite = data_integrity()
    suite.add(PercentOfNulls().add_condition_percent_of_nulls_not_greater_than(MAX_NULL_SHARE))
    return suite


def dataset(frame: pd.DataFrame) -> Dataset:
    return Dataset(frame, cat_features=categorical_columns(frame))


def integrity_report(
    frame: pd.DataFrame,
    store: ReportStore,
    name: Sequence[str],
    partition: str | None,
    exclude: Sequence[str] = (),
) -> QualityReport:
    """Runs the suite on a sample of `frame`, saves the HTML report and summarises it."""
    sampled = sample(frame, store.sample_size)
    lists = [column for column in list_columns(sampled) if column not in exclude]
    judged = deepchecks_frame(sampled, exclude)
    result = integrity_suite().run(dataset(judged), with_display=True)
    title = f"Data integrity: {'/'.join(name)} {partition or ''}"
    path = store.save(result, name, partition, title)
    return summarise(result, str(path), len(judged), len(frame), lists)
