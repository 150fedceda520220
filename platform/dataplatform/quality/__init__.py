"""The `quality` group: deepchecks reports, their asset checks, pipeline health and alerts."""
