"""The code location's own `datahub` resource, resolved by Dagster (its token included)."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from dataplatform import definitions
from dataplatform.catalog.sink import DataHubSink


@contextmanager
def code_location_sink() -> Iterator[DataHubSink]:
    declared = definitions.defs().resources
    assert declared is not None  # the code location declares its resources
    with dg.build_resources({"datahub": declared["datahub"]}) as resources:
        yield resources.datahub
