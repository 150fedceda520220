"""Each table check passes on good data and fails on bad data, with the right severity."""

import dagster as dg
import pandas as pd

from dataplatform.cleaning import checks
from dataplatform.cleaning.tables import LISTENS, PLAYLISTS
from dataplatform.cleaning.validation import clean_table

ERROR = dg.AssetCheckSeverity.ERROR
WARN = dg.AssetCheckSeverity.WARN


def listens(ids: list[str | None], users: list[int] | None = None) -> pd.DataFrame:
    users = users or [1] * len(ids)
    return pd.DataFrame({"listen_id": ids, "user_id": users, "track_id": [1] * len(ids)})


def test_key_checks_pass_on_good_keys_and_block_on_bad_ones() -> None:
    good = listens(["a", "b"])
    assert checks.keys_not_null(good, LISTENS).passed
    assert checks.keys_unique(good, LISTENS).passed

    null_key = checks.keys_not_null(listens(["a", None]), LISTENS)
    repeated = checks.keys_unique(listens(["a", "a"]), LISTENS)
    assert not null_key.passed and null_key.severity == ERROR
    assert not repeated.passed and repeated.severity == ERROR


def test_schema_check_fails_when_a_column_is_missing() -> None:
    raw = pd.DataFrame({"listen_id": ["a"], "user_id": ["1"], "track_id": ["1"]}, dtype="string")

    result = checks.schema_matches(clean_table(raw, LISTENS))

    assert not result.passed
    assert result.metadata["missing_columns"].value == "listened_at, ms_played, device"


def test_reference_check_warns_when_too_many_rows_are_orphans() -> None:
    allowed = int(100 * checks.MAX_ORPHAN_SHARE)
    known = {"user_id": pd.Series([1]), "track_id": pd.Series([1])}
    table = listens([str(i) for i in range(100)], users=[1] * (100 - allowed) + [99] * allowed)
    assert checks.references_known(table, known).passed

    too_many = allowed + 1
    table = listens([str(i) for i in range(100)], users=[1] * (100 - too_many) + [99] * too_many)
    result = checks.references_known(table, known)
    assert not result.passed and result.severity == WARN
    assert result.metadata["unknown_user_id"].value == too_many


def test_reference_from_a_list_column_is_checked_element_by_element() -> None:
    known = {"user_id": pd.Series([1]), "track_ids": pd.Series([1, 2, 3])}
    allowed = int(100 * checks.MAX_ORPHAN_SHARE)  # of 100 elements, in 50 lists of two
    lists = [[1, 2]] * (50 - allowed) + [[3, 99]] * allowed + [[], None]
    playlists = pd.DataFrame({"user_id": 1, "track_ids": lists})
    assert checks.references_known(playlists, known, PLAYLISTS.list_columns).passed

    one_more = playlists.assign(track_ids=[[99, 2], *lists[1:]])
    result = checks.references_known(one_more, known, PLAYLISTS.list_columns)
    assert not result.passed and result.severity == WARN
    assert result.metadata["unknown_track_ids"].value == allowed + 1  # elements
    assert result.metadata["track_ids_orphan_share"].value == (allowed + 1) / 100
    assert result.metadata["orphan_share"].value == 0  # the scalar user_id is fine


def test_volume_check_warns_when_rows_collapse_against_previous_partition() -> None:
    assert checks.row_volume_stable(rows=900, previous_rows=1000).passed
    assert checks.row_volume_stable(rows=10, previous_rows=None).passed
    collapsed = checks.row_volume_stable(rows=100, previous_rows=1000)
    assert not collapsed.passed and collapsed.severity == WARN


def test_reject_share_check() -> None:
    allowed = int(100 * checks.MAX_REJECT_SHARE)
    assert checks.reject_share_low(raw_rows=100, rejected_rows=allowed).passed
    assert not checks.reject_share_low(raw_rows=100, rejected_rows=allowed + 1).passed


def test_blocking_checks_are_exactly_schema_and_keys() -> None:
    specs = checks.check_specs(LISTENS, dg.AssetKey(["cleaned", "listens"]))

    assert {spec.name for spec in specs if spec.blocking} == {
        "schema_matches",
        "keys_not_null",
        "keys_unique",
    }
    assert "references_known" in {spec.name for spec in specs}
