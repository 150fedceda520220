"""Turn a landed CSV, TSV, JSON, JSON Lines, XLSX or Parquet file into a stream of Arrow batches."""

from dataplatform.landing.formats.conversion import Conversion
from dataplatform.landing.formats.dispatch import open_landed_file
from dataplatform.landing.formats.errors import LandingFileError

__all__ = ["Conversion", "LandingFileError", "open_landed_file"]
