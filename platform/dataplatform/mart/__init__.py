"""The data mart: the platform's Parquet outputs published day by day as SQL tables.

Pure logic, importable without Dagster: which tables the mart holds (`tables`), how a day's
rows are built from the Parquet files (`days`), their SQL schema (`schema`), how a day is
published in one transaction (`publish`) into DuckDB (`duckdb_mart`) or PostgreSQL
(`postgres_mart`), chosen by one setting (`target`).
"""
