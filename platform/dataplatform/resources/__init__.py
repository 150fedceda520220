"""Shared infrastructure: the source API client and the Parquet IO manager."""

from dataplatform.resources.parquet_io_manager import ParquetIOManager
from dataplatform.resources.source_api import SourceApiClient

__all__ = ["ParquetIOManager", "SourceApiClient"]
