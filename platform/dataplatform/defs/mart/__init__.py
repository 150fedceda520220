"""The data mart: the platform's outputs published as SQL tables (DuckDB or PostgreSQL)."""
