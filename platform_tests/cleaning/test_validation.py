"""Cleaning dirty raw rows: types (booleans and lists too), normalisation, duplicates,
rejects with reasons."""

import pandas as pd
import pyarrow as pa

from dataplatform.cleaning.tables import LISTENS, PLAYLISTS, USERS
from dataplatform.cleaning.validation import REJECT_REASON, clean_table


def raw_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).astype("string")
    frame["_page"] = 1
    return frame


def listen(listen_id: str, **overrides: str | None) -> dict:
    row = {
        "listen_id": listen_id,
        "user_id": "1",
        "track_id": "2",
        "listened_at": "2026-03-04T10:00:00Z",
        "ms_played": "1000",
        "device": "mobile",
    }
    return row | overrides


def user(user_id: str, updated_at: str, **overrides: str | None) -> dict:
    row = {
        "user_id": user_id,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "date_of_birth": "1990-12-10",
        "city": "London",
        "country": "gb",
        "signup_at": "2026-01-01T00:00:00Z",
        "updated_at": updated_at,
    }
    return row | overrides


def test_clean_rows_get_declared_types() -> None:
    cleaned = clean_table(raw_frame([listen("a")]), LISTENS)

    assert cleaned.table.schema.equals(LISTENS.arrow_schema())
    assert cleaned.table.column("listened_at")[0].as_py() == pd.Timestamp("2026-03-04T10:00:00Z")


def test_every_bad_row_is_rejected_with_its_reason_and_raw_values() -> None:
    raw = raw_frame(
        [
            listen("ok"),
            listen("bad_int", ms_played="n/a"),
            listen("no_user", user_id=None),
            listen("bad_time", listened_at="not-a-date"),
            listen("negative", ms_played="-5"),
            listen("odd_device", device="toaster"),
        ]
    )

    cleaned = clean_table(raw, LISTENS)

    assert cleaned.table.column("listen_id").to_pylist() == ["ok"]
    reasons = dict(zip(cleaned.rejects["listen_id"], cleaned.rejects[REJECT_REASON], strict=True))
    assert reasons == {
        "bad_int": "ms_played: 'n/a' is not a valid int",
        "no_user": "user_id: missing (required)",
        "bad_time": "listened_at: 'not-a-date' is not a valid timestamp",
        "negative": "ms_played: -5 fails greater_than_or_equal_to(0)",
        "odd_device": "device: 'toaster' fails isin(['mobile', 'desktop', 'web', 'smart_speaker'])",
    }
    assert len(cleaned.table) + len(cleaned.rejects) == len(raw)
    assert (cleaned.rejects["_page"] == 1).all()


def test_whitespace_and_case_are_normalised_before_duplicates_are_dropped() -> None:
    raw = raw_frame([listen("a"), listen(" a ", device=" MOBILE "), listen("b")])

    cleaned = clean_table(raw, LISTENS)

    assert cleaned.exact_duplicates == 1
    assert cleaned.table.column("listen_id").to_pylist() == ["a", "b"]
    assert cleaned.rejects.empty


def test_fact_rows_sharing_a_key_with_different_values_are_rejected() -> None:
    cleaned = clean_table(raw_frame([listen("a"), listen("a", ms_played="5")]), LISTENS)

    assert len(cleaned.table) == 1
    assert cleaned.rejects[REJECT_REASON].tolist() == [
        "duplicate key listen_id: an earlier row has the same key"
    ]


def test_dimension_keeps_the_latest_version_of_each_entity() -> None:
    raw = raw_frame(
        [
            user("7", "2026-03-04T12:00:00Z", email=" New@Example.COM "),
            user("7", "2026-03-04T08:00:00Z", email="old@example.com"),
            user("8", "2026-03-04T09:00:00Z"),
        ]
    )

    cleaned = clean_table(raw, USERS)

    assert cleaned.superseded_versions == 1
    by_id = cleaned.table.to_pandas().set_index("user_id")
    assert by_id.loc[7, "email"] == "new@example.com"
    assert by_id.loc[8, "country"] == "GB"


def test_invalid_calendar_date_and_email_are_rejected() -> None:
    raw = raw_frame(
        [
            user("1", "2026-03-04T12:00:00Z", date_of_birth="1990-02-31"),
            user("2", "2026-03-04T12:00:00Z", email="not-an-email"),
        ]
    )

    reasons = clean_table(raw, USERS).rejects[REJECT_REASON].tolist()

    assert reasons[0] == "date_of_birth: '1990-02-31' is not a valid date"
    assert reasons[1].startswith("email: 'not-an-email' fails str_matches")


def test_schema_drift_is_reported_not_guessed() -> None:
    raw = raw_frame([listen("a")]).drop(columns=["device"]).assign(shiny_new_field="x")

    cleaned = clean_table(raw, LISTENS)

    assert cleaned.missing_columns == ["device"]
    assert cleaned.unexpected_columns == ["shiny_new_field"]
    assert cleaned.table.column("device").null_count == 1


def playlist(playlist_id: str, **overrides: str | None) -> dict:
    row = {
        "playlist_id": playlist_id,
        "user_id": "1",
        "name": "Road trip",
        "is_public": "true",
        "track_ids": "[3,1,2]",
        "updated_at": "2026-03-04T10:00:00Z",
    }
    return row | overrides


def test_booleans_and_lists_get_their_arrow_types() -> None:
    raw = raw_frame(
        [
            playlist("1"),
            playlist("2", is_public="FALSE", track_ids="[]"),
            playlist("3", is_public=" True ", track_ids='["7", 8]'),
        ]
    )

    cleaned = clean_table(raw, PLAYLISTS)

    assert cleaned.table.schema.equals(PLAYLISTS.arrow_schema())
    assert cleaned.table.schema.field("track_ids").type == pa.list_(pa.int64())
    assert cleaned.table.schema.field("is_public").type == pa.bool_()
    assert cleaned.table.column("is_public").to_pylist() == [True, False, True]
    assert cleaned.table.column("track_ids").to_pylist() == [[3, 1, 2], [], [7, 8]]
    assert cleaned.rejects.empty


def test_bad_booleans_and_lists_are_rejected_with_their_reason() -> None:
    bad = {
        "is_public": {"yes": "'yes' is not a valid bool", "1": "'1' is not a valid bool"},
        "track_ids": {
            "12,7,30": "'12,7,30' is not a valid list of int",
            "12": "'12' is not a valid list of int",
            "[1,null]": "'[1,null]' is not a valid list of int",
            '[1,"n/a"]': "'[1,\"n/a\"]' is not a valid list of int",
            "[[1],2]": "'[[1],2]' is not a valid list of int",
            "[4,-5]": "element -5 fails greater_than_or_equal_to(0)",
        },
    }
    cases = [
        (column, value, f"{column}: {reason}")
        for column, values in bad.items()
        for value, reason in values.items()
    ]
    cases += [(column, None, f"{column}: missing (required)") for column in bad]
    raw = raw_frame(
        [playlist("0")]
        + [playlist(str(n), **{column: value}) for n, (column, value, _) in enumerate(cases, 1)]
    )

    cleaned = clean_table(raw, PLAYLISTS)

    assert cleaned.table.column("playlist_id").to_pylist() == [0]
    reasons = dict(zip(cleaned.rejects["playlist_id"], cleaned.rejects[REJECT_REASON], strict=True))
    assert reasons == {str(n): reason for n, (_, _, reason) in enumerate(cases, 1)}
    assert len(cleaned.table) + len(cleaned.rejects) == len(raw)


def test_a_list_keeps_its_order_and_the_later_version_of_a_row_wins() -> None:
    raw = raw_frame(
        [
            playlist("1", updated_at="2026-03-04T10:00:00Z"),
            playlist("1", track_ids="[2,1,3]", updated_at="2026-03-04T11:00:00Z"),
            playlist("2", track_ids="[5]"),
            playlist("2", track_ids=" [5] "),
        ]
    )

    cleaned = clean_table(raw, PLAYLISTS)

    assert cleaned.exact_duplicates == 1 and cleaned.superseded_versions == 1
    assert cleaned.table.column("track_ids").to_pylist() == [[2, 1, 3], [5]]
