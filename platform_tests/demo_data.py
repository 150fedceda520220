"""A small, fast demo API configuration and a day inside its history, shared by tests."""

from dataplatform.demo_api import DemoApiConfig

DAY = "2026-03-04"
SMALL = DemoApiConfig(
    initial_users=300, initial_tracks=200, listens_per_day=1_500, reviews_per_day=100
)
