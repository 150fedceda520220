"""Dates parsed from text for blocking and comparing, refusing a format that parses nothing."""

import pandas as pd

# Fewer present values than this that all fail are a few bad records (they become NaT and are
# counted), not evidence of a wrong format: a small day must not stop on two bad dates.
MIN_VALUES_TO_JUDGE_A_FORMAT = 20


def parse_dates(values: pd.Series, date_format: str | None = None) -> pd.Series:
    """`values` as datetimes (unparseable ones NaT); fails when none of enough present values
    parse, which means a wrong format rather than a few bad values."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    dates = pd.to_datetime(values, format=date_format, errors="coerce")
    present = int(values.notna().sum())
    if present >= MIN_VALUES_TO_JUDGE_A_FORMAT and not dates.notna().any():
        examples = values.dropna().astype(str).unique()[:3].tolist()
        raise ValueError(
            f"column {values.name!r}: none of {present} present values parses as a date with"
            f" format {date_format or '(inferred)'!r}, e.g. {examples}; fix the format"
        )
    return dates


def unparsed_count(raw: pd.Series, parsed: pd.Series) -> int:
    """Present values that did not parse (became NaT)."""
    return int(raw.notna().sum() - parsed.notna().sum())
