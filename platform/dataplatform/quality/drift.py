"""Deepchecks' train-test validation: is the new partition drawn like its reference?"""

from collections.abc import Sequence
from typing import cast

import pandas as pd
from deepchecks.tabular import Dataset, Suite
from deepchecks.tabular.checks import TrainTestSamplesMix
from deepchecks.tabular.suites import train_test_validation

from dataplatform.quality.reports import (
    QualityReport,
    ReportStore,
    categorical_columns,
    deepchecks_frame,
    list_columns,
    sample,
    summarise,
)


def drift_suite() -> Suite:
    """Deepchecks' train-test validation without the sample-overlap check: with ids left out,
    a day's rows repeat earlier days' by nature (same device, same rating)."""
    suite = train_test_validation()
    for index, check in list(suite.checks.items()):
        if isinstance(check, TrainTestSamplesMix):
            suite.remove(index)
    return suite


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    store: ReportStore,
    name: Sequence[str],
    partition: str | None,
    exclude: Sequence[str] = (),
    label: str | None = None,
) -> QualityReport:
    """Compares a sample of `current` with a sample of `reference` (e.g. the previous days).

    Ids (`exclude`) and timestamps are left out: every new id is "new" and every day's
    timestamps differ from the previous days', which is not drift. Free text (text columns
    too varied to be categories) is compared by its length.
    """
    current_sample = sample(current, store.sample_size)
    lists = [column for column in list_columns(current_sample) if column not in exclude]
    ref = comparable_frame(sample(reference, store.sample_size), exclude)
    cur = comparable_frame(current_sample, exclude)
    columns = [
        c
        for c in ref.columns
        if c in cur.columns and _comparable(cast(pd.Series, ref[c]), cast(pd.Series, cur[c]))
    ]
    both = cast(pd.DataFrame, pd.concat([ref, cur])[columns])
    categorical = [c for c in categorical_columns(both) if c != label]
    features = [
        c for c in columns if c != label and (c in categorical or _numeric(cast(pd.Series, ref[c])))
    ]
    kept = [*features, *([label] if label else [])]
    result = drift_suite().run(
        Dataset(ref[kept], label=label, cat_features=categorical, features=features),  # pyright: ignore[reportArgumentType]  # deepchecks' label defaults to None but its type omits None
        Dataset(cur[kept], label=label, cat_features=categorical, features=features),  # pyright: ignore[reportArgumentType]  # deepchecks' label defaults to None but its type omits None
        with_display=True,
    )
    title = f"Drift: {'/'.join(name)} {partition or ''}"
    path = store.save(result, name, partition, title)
    return summarise(result, str(path), len(cur), len(current), lists)


def comparable_frame(frame: pd.DataFrame, exclude: Sequence[str]) -> pd.DataFrame:
    kept = frame.select_dtypes(exclude=["datetime", "datetimetz"])
    converted = deepchecks_frame(kept, exclude)
    free_text = [
        column
        for column in converted.columns
        if converted[column].dtype == object and column not in categorical_columns(converted)
    ]
    lengths = {f"{column}_length": converted[column].str.len() for column in free_text}
    return converted.drop(columns=free_text).assign(**lengths)


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column.dtype)


def _comparable(reference: pd.Series, current: pd.Series) -> bool:
    return _numeric(reference) == _numeric(current)
