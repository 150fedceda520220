"""Entity resolution: blocking, comparison, classification, clustering and golden records."""
