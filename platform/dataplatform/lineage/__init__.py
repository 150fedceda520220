"""Catalog metadata: how assets, runs and writes are described to DataHub, and the spool."""
