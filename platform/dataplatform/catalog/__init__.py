"""Keeping DataHub in sync: run outcomes and replay of undelivered metadata."""
