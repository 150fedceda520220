"""A value that does not fit its column's type rejects its row, not the file."""

from pathlib import Path

import pyarrow as pa
import pytest

from dataplatform.landing.formats import limits
from platform_tests.landing.formats.landed_files import convert, landed


def test_late_value_that_does_not_fit_rejects_only_its_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "BLOCK_BYTES", 1024)  # types come from the first kilobyte
    rows = [f"L{n},{n * 10}" for n in range(1, 301)]
    rows[250] = "L251,n/a"
    rows[260] = "L261,"
    content = "listen_id,ms_played\n" + "\n".join(rows) + "\nL301,5\n"
    conversion, table = convert(landed(tmp_path, "late.csv", content))

    assert conversion.schema.field("ms_played").type == pa.int64()
    assert table.num_rows == 300
    assert 252 not in table.column("_row_number").to_pylist()  # line 252: row 251
    played = dict(
        zip(table["_row_number"].to_pylist(), table["ms_played"].to_pylist(), strict=True)
    )
    assert (played[251], played[262], played[263], played[302]) == (2500, None, 2620, 5)
    assert conversion.rejects == [
        {
            "_source_file": "late.csv",
            "_sheet": None,
            "_row_number": 252,
            "_raw": '{"listen_id":"L251","ms_played":"n/a"}',
            "_reject_reason": "ms_played: 'n/a' is not int64",
        }
    ]
