"""The landing zone: files dropped into folders become Parquet partitions, bad ones quarantined."""
