"""Benchmarks (`make bench`), on fixed demo days inside a fixed calendar."""

import os

# Their days (e.g. 2026-03-02) lie in this calendar, not in the default week before a first
# load; set before any benchmark imports the partitions, and inherited by the processes it starts.
os.environ.setdefault("DATAPLATFORM_START_DATE", "2026-01-01")
