"""The DataHub resource: where catalog metadata goes, chosen by configuration, never lost.

Sinks: `lite` (DataHub Lite on SQLite, the embedded default; writers are serialised with a
file lock because Lite is not safe for concurrent writers), `rest` (a DataHub GMS through
acryl-datahub's REST emitter), `file` (an MCP JSON file that `datahub check metadata-file`
accepts) and `none`. If delivery fails, the metadata is spooled locally and replayed later,
in order; with `strict`, the failure fails the step instead.
"""

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pyarrow as pa
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.emitter.rest_emitter import DatahubRestEmitter
from datahub.lite.lite_util import get_datahub_lite
from filelock import FileLock

from dataplatform.catalog.metadata import (
    FinishedRun,
    PublishedSqlTable,
    dataset_mcps,
    describe_output,
    run_mcps,
    sql_table_mcps,
)
from dataplatform.catalog.naming import CatalogNaming
from dataplatform.catalog.profile import TableProfile
from dataplatform.catalog.spool import Spool
from dataplatform.settings import SinkKind

MCP = MetadataChangeProposalWrapper


class CatalogDeliveryError(RuntimeError):
    """Metadata could not be delivered and the sink is `strict`."""


@dataclass(frozen=True)
class Delivery:
    """What happened to one batch of metadata, as shown in materialisation metadata."""

    status: str  # "sent", "spooled" or "disabled"
    detail: str = ""

    def metadata(self, urn: str) -> dict[str, str]:
        """What a materialisation says about the delivery of its dataset `urn`."""
        detail = {"datahub/detail": self.detail} if self.status == "spooled" else {}
        return {"datahub/urn": urn, "datahub/delivery": self.status, **detail}


class DataHubSink(dg.ConfigurableResource):
    kind: SinkKind = SinkKind.LITE
    lite_path: str = "data/catalog/datahub_lite.sqlite"
    server: str = ""
    token: str | None = None
    file_path: str = "data/catalog/mcps.json"
    spool_dir: str = "data/catalog/spool"
    strict: bool = False
    timeout_seconds: float = 10.0
    lock_timeout_seconds: float = 60.0
    platform: str = "dagster"
    env: str = "PROD"
    ui_url: str = "http://127.0.0.1:3000"

    @property
    def naming(self) -> CatalogNaming:
        return CatalogNaming(platform=self.platform, env=self.env, ui_url=self.ui_url)

    @property
    def spool(self) -> Spool:
        return Spool(self.spool_dir)

    def emit(self, mcps: list[MCP]) -> Delivery:
        """Deliver now; if that fails, spool (or raise, when strict). Never loses metadata."""
        if self.kind is SinkKind.NONE:
            return Delivery("disabled")
        try:
            if self.spool.pending():
                self.replay()  # older metadata first, or it would overwrite newer
            self.send(mcps)
        except Exception as error:
            reason = self.redact(f"{type(error).__name__}: {error}")
            if self.strict:
                raise CatalogDeliveryError(
                    f"DataHub {self.kind.value} sink failed: {reason}"
                ) from None
            path = self.spool.append(mcps)
            dg.get_dagster_logger().warning(
                f"DataHub {self.kind.value} sink failed ({reason}); metadata spooled to {path}"
            )
            return Delivery("spooled", f"{reason}; spooled to {path}")
        return Delivery("sent", self.kind.value)

    def record_write(
        self, context: dg.OutputContext, schema: pa.Schema, profile: TableProfile, uri: str
    ) -> dict[str, str]:
        """Describes a write that just succeeded (schema, lineage, profile, ownership) and
        returns what the materialisation should say about its delivery. The one call the IO
        manager makes: never fails the write unless the sink is strict."""
        written = describe_output(context, schema, profile, uri)
        delivery = self.emit(dataset_mcps(written, self.naming))
        return delivery.metadata(self.naming.dataset_urn(context.asset_key))

    def record_tables(
        self, tables: Sequence[PublishedSqlTable]
    ) -> dict[dg.AssetKey, dict[str, str]]:
        """Describes the tables the mart just committed (one batch for a day's transaction);
        returns what each materialisation should say. Never fails the publication unless the
        sink is strict."""
        delivery = self.emit(
            [mcp for table in tables for mcp in sql_table_mcps(table, self.naming)]
        )
        return {
            table.key: delivery.metadata(self.naming.table_urn(table.table)) for table in tables
        }

    def record_run(self, run: FinishedRun) -> Delivery:
        """Records a finished run (its outcome, timing and the assets it wrote)."""
        return self.emit(run_mcps(run, self.naming))

    def replay(self) -> int:
        """Send the spooled batches in order; returns how many were sent."""
        if self.kind is SinkKind.NONE:
            return 0  # nowhere to send them: keep them for when a sink is configured again
        try:
            return self.spool.replay(self.send)
        except Exception as error:
            raise CatalogDeliveryError(
                f"replaying the spool to DataHub ({self.kind.value}) failed:"
                f" {self.redact(str(error))}; the unsent batches stay in {self.spool_dir}"
            ) from None

    def send(self, mcps: list[MCP]) -> None:
        match self.kind:
            case SinkKind.LITE:
                self._write_lite(mcps)
            case SinkKind.REST:
                self._post_rest(mcps)
            case SinkKind.FILE:
                self._append_file(mcps)

    def redact(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text

    def _write_lite(self, mcps: list[MCP]) -> None:
        Path(self.lite_path).parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{self.lite_path}.lock", timeout=self.lock_timeout_seconds):
            lite = get_datahub_lite({"type": "sqlite", "config": {"file": self.lite_path}})
            try:
                for mcp in mcps:
                    lite.write(mcp)
            finally:
                lite.close()

    def _post_rest(self, mcps: list[MCP]) -> None:
        emitter = DatahubRestEmitter(
            gms_server=self.server,
            token=self.token,
            timeout_sec=self.timeout_seconds,
            retry_max_times=1,
            openapi_ingestion=False,
        )
        try:
            emitter.emit_mcps(mcps)
        finally:
            emitter.close()

    def _append_file(self, mcps: list[MCP]) -> None:
        path = Path(self.file_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{path}.lock", timeout=self.lock_timeout_seconds):
            existing = json.loads(path.read_text()) if path.exists() else []
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_text(json.dumps(existing + [mcp.to_obj() for mcp in mcps], indent=1))
            os.replace(temporary, path)
