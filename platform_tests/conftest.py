"""Shared fixtures: a real demo API on loopback and real local services."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataplatform.demo_api import DemoApiServer
from platform_tests.demo_data import SMALL

# The tests' days (demo_data.DAY) lie in a fixed calendar, not the week before a first load;
# set before any test imports the partitions, and inherited by the processes tests start.
os.environ.setdefault("DATAPLATFORM_START_DATE", "2026-01-01")


@pytest.fixture(scope="session")
def demo_api() -> Iterator[DemoApiServer]:
    """A fault-free demo API shared by the tests that only read from it."""
    with DemoApiServer(SMALL) as server:
        yield server


# Test files that take minutes (pytest --durations, bench/RESULTS.md), longest first. They are
# started first so that under pytest-xdist (make test: --dist loadfile, which keeps each file's
# tests in one process, and --no-loadscope-reorder, which keeps this order) no worker starts
# one of them while the other is about to run out of work.
LONG_FILES = (
    "deployment/test_topology.py",
    "catalog/test_lineage.py",
    "landing/test_assets.py",
    "models/test_sentiment_real_text.py",
    "deployment/test_auth.py",
    "ui/test_ui.py",
    "catalog/test_sink.py",
    "models/test_tracking.py",
    "quality/test_assets.py",
    "entities/test_assets.py",
)
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.relative_to(TESTS).as_posix()
        return LONG_FILES.index(name) if name in LONG_FILES else len(LONG_FILES)

    items.sort(key=rank)  # stable: the other files, and the tests within a file, keep their order
