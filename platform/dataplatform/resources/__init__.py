"""Shared infrastructure: the source API client and the Parquet IO manager."""
