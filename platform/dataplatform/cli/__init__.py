"""The `dataplatform` command: launch runs through the code location, follow them, report status."""

from dataplatform.cli.app import main

__all__ = ["main"]
