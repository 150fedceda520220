"""Shared fixtures: a real demo API on loopback and real local services."""

from collections.abc import Iterator

import pytest

from dataplatform.demo_api import DemoApiServer
from platform_tests.demo_data import SMALL


@pytest.fixture(scope="session")
def demo_api() -> Iterator[DemoApiServer]:
    """A fault-free demo API shared by the tests that only read from it."""
    with DemoApiServer(SMALL) as server:
        yield server
