"""Everything DataHub: the sink, naming, spool, metadata builders and the MLflow ingestion."""
