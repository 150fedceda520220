"""Every endpoint in the registry reaches every layer: the demo API serves it (see
demo_api/test_demo_api.py), the code location extracts it into a `raw` asset, and a cleaned
table types it, or it is declared raw-only; the demo's data for it cleans with few rejects."""

from datetime import date

import dagster as dg
import pandas as pd
import pytest

from dataplatform import definitions
from dataplatform.cleaning.checks import MAX_REJECT_SHARE
from dataplatform.cleaning.tables import CLEANED_TABLES, RAW_ONLY_ENDPOINTS
from dataplatform.cleaning.validation import clean_table
from dataplatform.demo_api.endpoints import ENDPOINTS, Endpoint, day_table
from dataplatform.resources.api_pages import raw_texts
from platform_tests.demo_data import DAY, SMALL

CLEANED_FROM = {spec.source: spec for spec in CLEANED_TABLES}
NAMES = pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.name)


def raw_text(endpoint: Endpoint, day: str) -> pd.DataFrame:
    """The day's records as the raw layer keeps them: strings as given, the rest as JSON."""
    table = day_table(SMALL, endpoint.name, date.fromisoformat(day))
    frame = pd.DataFrame(table.rows(0, table.total))
    return frame.apply(lambda column: raw_texts(column.tolist())).astype("string")


def test_every_cleaned_table_from_the_api_cleans_a_registered_endpoint() -> None:
    names = {endpoint.name for endpoint in ENDPOINTS}
    api_sources = {source[1] for source in CLEANED_FROM if source[0] == "raw"}
    assert api_sources <= names
    assert RAW_ONLY_ENDPOINTS.issubset(names)
    assert not api_sources & RAW_ONLY_ENDPOINTS


@pytest.fixture(scope="module")
def specs() -> dict[dg.AssetKey, dg.AssetSpec]:
    return {spec.key: spec for spec in definitions.defs().resolve_all_asset_specs()}


@NAMES
def test_endpoint_has_a_raw_asset_in_the_code_location(
    endpoint: Endpoint, specs: dict[dg.AssetKey, dg.AssetSpec]
) -> None:
    raw = specs[dg.AssetKey(["raw", endpoint.name])]

    assert raw.group_name == "raw"
    assert endpoint.description in (raw.description or "")


@NAMES
def test_endpoint_has_a_cleaned_table_or_is_declared_raw_only(
    endpoint: Endpoint, specs: dict[dg.AssetKey, dg.AssetSpec]
) -> None:
    spec = CLEANED_FROM.get(("raw", endpoint.name))

    assert (spec is None) == (endpoint.name in RAW_ONLY_ENDPOINTS)
    if spec is not None:
        assert dg.AssetKey(["cleaned", spec.name]) in specs


@NAMES
def test_endpoints_demo_data_cleans_into_its_declared_types_with_few_rejects(
    endpoint: Endpoint,
) -> None:
    spec = CLEANED_FROM.get(("raw", endpoint.name))
    if spec is None:
        pytest.skip(f"{endpoint.name} is raw-only")
    raw = raw_text(endpoint, DAY)

    cleaned = clean_table(raw, spec)

    assert cleaned.table.schema.equals(spec.arrow_schema())
    assert not cleaned.missing_columns and not cleaned.unexpected_columns
    assert 0 < len(cleaned.rejects) <= MAX_REJECT_SHARE * len(raw)  # the demo is dirty on purpose
    assert len(cleaned.table) > 0
