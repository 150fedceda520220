"""Raw extracts from the source API, one daily-partitioned asset per endpoint."""
