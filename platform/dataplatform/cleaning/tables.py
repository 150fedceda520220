"""The cleaned tables of the streaming service, one spec per source API endpoint it cleans."""

import pandas as pd
import pandera.pandas as pdr

from dataplatform.cleaning.spec import Field, Kind, LandedRows, TableSpec

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# Digits, optionally after "+", with the spaces, brackets, dots and dashes people write.
PHONE_PATTERN = r"^\+?[0-9][0-9 ().-]*$"
DEVICES = ["mobile", "desktop", "web", "smart_speaker"]
EARLIEST_BIRTH = pd.Timestamp("1900-01-01")


def lower(values: pd.Series) -> pd.Series:
    return values.str.lower()


def upper(values: pd.Series) -> pd.Series:
    return values.str.upper()


ID = Field(Kind.INT, nullable=False, checks=[pdr.Check.ge(0)])

TRACKS = TableSpec(
    name="tracks",
    source=("raw", "tracks"),
    key=("track_id",),
    version_column="updated_at",
    description="Current state of every track (dimension): latest version per track_id.",
    fields={
        "track_id": ID,
        "title": Field(Kind.TEXT, nullable=False),
        "artist": Field(Kind.TEXT, nullable=False),
        "album": Field(Kind.TEXT),
        "genre": Field(Kind.TEXT, normalise=lower),
        "duration_ms": Field(Kind.INT, checks=[pdr.Check.gt(0)]),
        "release_date": Field(Kind.DATE),
        "popularity": Field(Kind.INT, checks=[pdr.Check.in_range(0, 100)]),
        "updated_at": Field(Kind.TIMESTAMP, nullable=False),
    },
)

USERS = TableSpec(
    name="users",
    source=("raw", "users"),
    key=("user_id",),
    version_column="updated_at",
    description="Current state of every user account (dimension): latest version per user_id.",
    fields={
        "user_id": ID,
        "first_name": Field(Kind.TEXT),
        "last_name": Field(Kind.TEXT),
        "email": Field(Kind.TEXT, checks=[pdr.Check.str_matches(EMAIL_PATTERN)], normalise=lower),
        "date_of_birth": Field(Kind.DATE, checks=[pdr.Check.ge(EARLIEST_BIRTH)]),
        "street": Field(Kind.TEXT),
        "city": Field(Kind.TEXT),
        "country": Field(Kind.TEXT, checks=[pdr.Check.str_matches(r"^[A-Z]{2}$")], normalise=upper),
        "phone": Field(Kind.TEXT, checks=[pdr.Check.str_matches(PHONE_PATTERN)]),
        "signup_at": Field(Kind.TIMESTAMP),
        "updated_at": Field(Kind.TIMESTAMP, nullable=False),
    },
)

LISTENS = TableSpec(
    name="listens",
    source=("raw", "listen_history"),
    key=("listen_id",),
    description="One row per listen of a track by a user (fact), partitioned by day.",
    references={"user_id": USERS, "track_id": TRACKS},
    fields={
        "listen_id": Field(Kind.TEXT, nullable=False),
        "user_id": ID,
        "track_id": ID,
        "listened_at": Field(Kind.TIMESTAMP, nullable=False),
        "ms_played": Field(Kind.INT, checks=[pdr.Check.ge(0)]),
        "device": Field(Kind.TEXT, checks=[pdr.Check.isin(DEVICES)], normalise=lower),
    },
)

LANDED_REVIEWS = TableSpec(
    name="landed_reviews",
    source=("landed", "reviews"),
    # A workbook numbers rows per sheet; other files have no sheet (null).
    key=("_source_file", "_sheet", "_row_number"),
    description=(
        "Labelled reviews dropped in the landing zone, validated by the same rules as the API's"
        " reviews (text required, rating 1-5), one partition per landed file."
    ),
    fields={
        "_source_file": Field(Kind.TEXT, nullable=False),
        "_sheet": Field(Kind.TEXT),
        "_row_number": Field(Kind.INT, nullable=False),
        "_landed_at": Field(Kind.TIMESTAMP, nullable=False),
        "text": Field(Kind.TEXT, nullable=False),
        "rating": Field(Kind.INT, nullable=False, checks=[pdr.Check.in_range(1, 5)]),
    },
)


def landed_reviews_as_reviews(landed: pd.DataFrame) -> pd.DataFrame:
    """Landed reviews bring only text and rating: their id says which file, arrival, sheet (of a
    workbook) and row they come from, they have no user or track, and they were created when
    they landed. Excel forbids ':' in sheet names, so `sheet:row` cannot be ambiguous."""
    arrival = landed["_landed_at"].dt.strftime("%Y%m%dT%H%M%SZ")
    row = landed["_row_number"].astype("string")
    row = (landed["_sheet"].astype("string") + ":" + row).fillna(row)
    unknown = pd.array([pd.NA] * len(landed), dtype="Int64")
    return pd.DataFrame(
        {
            "review_id": "landed/" + landed["_source_file"] + "@" + arrival + "#" + row,
            "user_id": unknown,
            "track_id": unknown,
            "rating": landed["rating"],
            "text": landed["text"],
            "created_at": landed["_landed_at"],
        }
    )


REVIEWS = TableSpec(
    name="reviews",
    source=("raw", "reviews"),
    key=("review_id",),
    description=(
        "Labelled reviews: text with a 1-5 star rating (fact), partitioned by day; from the API"
        " and from review files landed that day (`source` says which)."
    ),
    references={"user_id": USERS, "track_id": TRACKS},
    landed=LandedRows(LANDED_REVIEWS, landed_reviews_as_reviews),
    fields={
        "review_id": Field(Kind.TEXT, nullable=False),
        "user_id": ID,
        "track_id": ID,
        "rating": Field(Kind.INT, nullable=False, checks=[pdr.Check.in_range(1, 5)]),
        "text": Field(Kind.TEXT, nullable=False),
        "created_at": Field(Kind.TIMESTAMP, nullable=False),
    },
)

PLAYLISTS = TableSpec(
    name="playlists",
    source=("raw", "playlists"),
    key=("playlist_id",),
    version_column="updated_at",
    description=(
        "Current state of every playlist (dimension): latest version per playlist_id, its"
        " tracks in playlist order."
    ),
    references={"user_id": USERS, "track_ids": TRACKS},
    fields={
        "playlist_id": ID,
        "user_id": ID,
        "name": Field(Kind.TEXT),
        "is_public": Field(Kind.BOOL, nullable=False),
        "track_ids": Field(Kind.INT, is_list=True, nullable=False, checks=[pdr.Check.ge(0)]),
        "updated_at": Field(Kind.TIMESTAMP, nullable=False),
    },
)

# One spec per source endpoint (`demo_api.endpoints`) that has a cleaned table.
CLEANED_TABLES = (TRACKS, USERS, LISTENS, REVIEWS, PLAYLISTS)
# Endpoints kept raw on purpose: extracted, but with no cleaned table (none yet).
RAW_ONLY_ENDPOINTS: frozenset[str] = frozenset()
