"""Trained models: embeddings, sentiment classifiers and recommender, tracked in MLflow."""
