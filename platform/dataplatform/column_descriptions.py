"""What each user-facing column means, declared once for every table that carries it.

A column keeps its meaning from the API's contract through the cleaned tables, entities,
model outputs and the mart, so descriptions are keyed by column name, with a table's own
wording where the same name means something narrower there. The IO manager shows them in
Dagster's column schema, the catalog in DataHub's schema fields, the mart as column comments.
"""

from collections.abc import Mapping

COLUMNS: Mapping[str, str] = {
    # keys and references
    "user_id": "The user account's id, as the streaming API assigns it.",
    "track_id": "The track's id, as the streaming API assigns it.",
    "listen_id": "The listen event's id, unique across all days.",
    "review_id": "The review's id, unique across all days.",
    "playlist_id": "The playlist's id, as the streaming API assigns it.",
    "entity_id": "The resolved person this row belongs to (a cluster of matching accounts).",
    # tracks
    "title": "The track's title.",
    "artist": "The performing artist's name.",
    "album": "The album the track appears on, if any.",
    "genre": "The track's genre, lower-cased.",
    "duration_ms": "The track's length in milliseconds.",
    "release_date": "The day the track was released.",
    "popularity": "The API's popularity score, 0 (least) to 100 (most).",
    # users
    "first_name": "The user's given name.",
    "last_name": "The user's family name.",
    "email": "The user's email address, lower-cased.",
    "date_of_birth": "The user's date of birth.",
    "street": "The street part of the user's postal address.",
    "city": "The city of the user's postal address.",
    "country": "The user's country, an ISO 3166-1 alpha-2 code in capitals.",
    "phone": "The user's phone number as they wrote it.",
    "signup_at": "When the user signed up (UTC).",
    "updated_at": "When the source last changed this record (UTC): the version's start.",
    # facts
    "listened_at": "When the listen started (UTC).",
    "ms_played": "How long the track was played, in milliseconds.",
    "device": "The kind of device played on: mobile, desktop, web or smart_speaker.",
    "rating": "The reviewer's rating, 1 (worst) to 5 (best).",
    "text": "The review's text.",
    "created_at": "When the review was written (UTC).",
    "name": "The playlist's name.",
    "is_public": "Whether other users can see the playlist.",
    "track_ids": "The playlist's tracks, in order.",
    # landing bookkeeping
    "_source_file": "The landed file the row came from.",
    "_sheet": "The workbook sheet the row came from (empty for other formats).",
    "_row_number": "The row's position in its file or sheet, from 1.",
    "_landed_at": "When the file landed (UTC).",
    # rejects (raw bookkeeping kept with each rejected row)
    "_page": "The API page the rejected row came from.",
    "_extracted_at": "When the row was extracted from the API (UTC).",
    "_reject_reason": "Why cleaning rejected the row: the failed rule, column and value.",
    "source": "Where the row came from: the API, or the landed file it joined from.",
    # entities and models
    "left_id": "The first user account of the candidate pair.",
    "right_id": "The second user account of the candidate pair.",
    "home": "How closely the pair's home addresses and phones agree (comparison level).",
    "is_match": "Whether a person labelled the pair as the same person.",
    "labelled_at": "When the pair was labelled (UTC).",
    "labelled_by": "Who labelled the pair.",
    "source_file": "The labels file the row came from.",
    "kept_on": "The day the labels file was kept; empty before it is.",
    "member_count": "How many user accounts were resolved into this person.",
    "predicted_label": "The sentiment the champion model predicts: 1 positive, 0 negative.",
    "positive_probability": "The champion model's probability that the review is positive.",
    "model_version": "The registered model version that produced the row.",
    "rank": "The recommendation's position for the user, 1 first.",
    "score": "The recommender's score of the track for the user (higher is better).",
    # added by the mart
    "day": "The day (partition) the row was published for.",
    "as_of": "The day whose state the table holds.",
    "valid_from": "When this version became valid (the source's updated_at).",
    "valid_to": "When a later version replaced this one; empty while current.",
    "is_current": "Whether this is the key's latest version.",
}

# Where a table's column means more than the shared name says.
BY_TABLE: Mapping[str, Mapping[str, str]] = {
    "user_golden": {
        "entity_id": "The resolved person's id: one golden record each.",
    },
    "playlists": {"user_id": "The id of the user account that owns the playlist."},
}


# A pair's side-by-side columns: `left_city` is the first account's `city`.
SIDES = {"left_": "The pair's first account", "right_": "The pair's second account"}


def column_description(table: str, column: str) -> str:
    """What `column` of `table` (the table's name, an asset key's last part) holds; empty
    for a column nobody has described."""
    described = BY_TABLE.get(table, {}).get(column) or COLUMNS.get(column, "")
    if described:
        return described
    for prefix, side in SIDES.items():
        if column.startswith(prefix) and (shared := COLUMNS.get(column.removeprefix(prefix))):
            return f"{side}: {shared[0].lower()}{shared[1:]}"
    return ""
