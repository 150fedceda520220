"""Converted batches are regrouped to row-group size and can be abandoned midway."""

from pathlib import Path

import pytest

from dataplatform.landing.formats import limits, open_landed_file
from platform_tests.landing.formats.landed_files import landed


def test_small_blocks_are_regrouped_and_abandoning_the_batches_stops_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "BLOCK_BYTES", 1024)
    path = landed(tmp_path, "numbers.csv", "n\n" + "\n".join(map(str, range(10_000))))
    assert [batch.num_rows for batch in open_landed_file(path, path.name).batches] == [10_000]

    monkeypatch.setattr(limits, "BATCH_BYTES", 1)
    batches = open_landed_file(path, path.name).batches
    assert next(batches).num_rows < 10_000
    batches.close()
