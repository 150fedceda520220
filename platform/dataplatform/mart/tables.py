"""Every table of the mart, declared once: its source asset, kind, keys and indexes."""

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    # Type-2 slowly changing dimension: a source partition holds the day's new and changed
    # versions; each version is kept with valid_from, valid_to and is_current.
    DIMENSION = "dimension"
    # Facts of the day: the day's rows are replaced when the day is published again.
    FACT = "fact"
    # The state as of a day (entities are rebuilt whole each day): the latest day published
    # replaces the table; publishing an older day leaves it alone.
    SNAPSHOT = "snapshot"


DAY = "day"
AS_OF = "as_of"
VALID_FROM, VALID_TO, IS_CURRENT = "valid_from", "valid_to", "is_current"


@dataclass(frozen=True)
class MartTable:
    name: str
    source: tuple[str, ...]  # the asset key path of the Parquet asset it is built from
    kind: Kind
    key: tuple[str, ...]  # the business key (a dimension's versions add valid_from)
    description: str
    columns: tuple[str, ...] = ()  # the source columns published (empty: all of them)
    version_column: str = ""  # a dimension's: when the version became valid
    indexes: tuple[tuple[str, ...], ...] = ()
    # Model outputs exist only once a model has been trained: a missing day is not an error.
    optional: bool = False
    # Text ids distinct on (nearly) every row: nothing for a dictionary to share, so DuckDB
    # stores them uncompressed (`schema.column_definition` says why).
    distinct_text: tuple[str, ...] = ()

    @property
    def primary_key(self) -> tuple[str, ...]:
        return (*self.key, VALID_FROM) if self.kind is Kind.DIMENSION else self.key

    @property
    def added_columns(self) -> tuple[str, ...]:
        """The columns the mart adds to the source's."""
        return {
            Kind.DIMENSION: (DAY, VALID_FROM, VALID_TO, IS_CURRENT),
            Kind.FACT: (DAY,),
            Kind.SNAPSHOT: (AS_OF,),
        }[self.kind]

    @property
    def current_view(self) -> str:
        """A dimension's current-state view: one row per key, its latest version."""
        return f"{self.name}_current" if self.kind is Kind.DIMENSION else ""


USERS = MartTable(
    name="users",
    source=("cleaned", "users"),
    kind=Kind.DIMENSION,
    key=("user_id",),
    version_column="updated_at",
    description="Every version of every user account (type-2 dimension).",
    indexes=((IS_CURRENT,),),
)
TRACKS = MartTable(
    name="tracks",
    source=("cleaned", "tracks"),
    kind=Kind.DIMENSION,
    key=("track_id",),
    version_column="updated_at",
    description="Every version of every track (type-2 dimension).",
    indexes=((IS_CURRENT,), ("genre",)),
)
LISTENS = MartTable(
    name="listens",
    source=("cleaned", "listens"),
    kind=Kind.FACT,
    key=("listen_id",),
    description="One row per listen of a track by a user, with its day (fact).",
    distinct_text=("listen_id",),
    indexes=((DAY,), ("user_id",), ("track_id",)),
)
REVIEWS = MartTable(
    name="reviews",
    source=("cleaned", "reviews"),
    kind=Kind.FACT,
    key=("review_id",),
    description="Labelled reviews (text, 1-5 rating), with their day (fact).",
    indexes=((DAY,), ("track_id",)),
)
USER_ENTITIES = MartTable(
    name="user_entities",
    source=("entities", "user_entities"),
    kind=Kind.SNAPSHOT,
    key=("user_id",),
    columns=("user_id", "entity_id"),
    description="Which resolved person (entity) each user account belongs to, as of a day.",
    distinct_text=("entity_id",),  # few people have several accounts
    indexes=(("entity_id",),),
)
USER_GOLDEN = MartTable(
    name="user_golden",
    source=("entities", "user_golden"),
    kind=Kind.SNAPSHOT,
    key=("entity_id",),
    description="One golden record per resolved person, as of a day.",
    distinct_text=("entity_id",),
)
RECOMMENDATIONS = MartTable(
    name="recommendations",
    source=("models", "recommendations"),
    kind=Kind.FACT,
    key=(DAY, "user_id", "rank"),
    description="The day's top tracks for each active user, from the champion recommender.",
    indexes=(("user_id",),),
    optional=True,
)
SENTIMENT_PREDICTIONS = MartTable(
    name="sentiment_predictions",
    source=("models", "sentiment_predictions"),
    kind=Kind.FACT,
    key=("review_id",),
    description="The day's reviews scored by the champion sentiment model.",
    indexes=((DAY,),),
    optional=True,
)

# Published together, in one transaction per day, by the daily refresh.
DAILY_TABLES = (USERS, TRACKS, LISTENS, REVIEWS, USER_ENTITIES, USER_GOLDEN)
# Published each in its own transaction once the day is scored (models are trained apart).
MODEL_TABLES = (RECOMMENDATIONS, SENTIMENT_PREDICTIONS)
MART_TABLES = DAILY_TABLES + MODEL_TABLES
# One row per day and table published: when, and how many rows.
PUBLICATIONS = "mart_publications"
