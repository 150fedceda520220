"""How Dagster assets, jobs and runs are named in DataHub (the documented URN mapping).

An asset key `["cleaned", "listens"]` is the dataset `cleaned.listens` on the configured
platform (default `dagster`) and environment (default `PROD`); the code location is one
DataFlow (`dagster`, `dataplatform`), and each asset's computation is a DataJob in it named
after the asset key. A Dagster run is a DataProcessInstance whose id is the run id.
"""

from dataclasses import dataclass

import dagster as dg
from datahub.emitter.mce_builder import (
    make_data_flow_urn,
    make_data_job_urn_with_flow,
    make_data_platform_urn,
    make_dataset_urn,
)

ORCHESTRATOR = "dagster"


@dataclass(frozen=True)
class CatalogNaming:
    platform: str = "dagster"
    env: str = "PROD"
    flow_id: str = "dataplatform"
    ui_url: str = "http://127.0.0.1:3000"

    @property
    def platform_urn(self) -> str:
        return make_data_platform_urn(self.platform)

    @property
    def flow_urn(self) -> str:
        return make_data_flow_urn(ORCHESTRATOR, self.flow_id, self.env)

    def dataset_name(self, key: dg.AssetKey) -> str:
        return ".".join(key.path)

    def dataset_urn(self, key: dg.AssetKey) -> str:
        return make_dataset_urn(self.platform, self.dataset_name(key), self.env)

    def job_urn(self, key: dg.AssetKey) -> str:
        return make_data_job_urn_with_flow(self.flow_urn, self.dataset_name(key))

    def asset_url(self, key: dg.AssetKey) -> str:
        return f"{self.ui_url}/assets/{'/'.join(key.path)}"

    def run_url(self, run_id: str) -> str:
        return f"{self.ui_url}/runs/{run_id}"
