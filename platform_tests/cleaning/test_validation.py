"""Cleaning dirty raw rows: types, normalisation, duplicates, rejects with reasons."""

import pandas as pd

from dataplatform.cleaning.tables import LISTENS, USERS
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
