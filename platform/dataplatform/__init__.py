"""An asset-based data platform on Dagster: API extracts, cleaned tables, entities, models."""
