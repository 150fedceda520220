"""Typed, validated tables built from the raw extracts; failing rows go to rejects tables."""
