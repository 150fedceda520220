"""The source API's endpoints, each declared once: what it serves and how the demo makes it.

The demo API's routes, the day tables it generates and its volume knobs, and the platform's
`raw` assets are all derived from `ENDPOINTS`; adding an endpoint is one entry here (see
docs/adding-an-endpoint.md). This module needs numpy only, not FastAPI or Dagster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from dataplatform.demo_api import dirt
from dataplatform.demo_api.config import DemoApiConfig
from dataplatform.demo_api.dirt import DirtSpec
from dataplatform.demo_api.generator import (
    clean_listens,
    clean_reviews,
    clean_tracks,
    clean_users,
)
from dataplatform.demo_api.playlists import VOLUME_KNOB as PLAYLIST_EDITS
from dataplatform.demo_api.playlists import clean_playlists
from dataplatform.demo_api.table import Table

# The listens a day that an endpoint's own default volume is stated for (DemoApiConfig's).
DEFAULT_LISTENS_PER_DAY = DemoApiConfig.listens_per_day


@dataclass(frozen=True)
class Volume:
    """The knob that sets how many records an endpoint serves a day.

    A knob without a default is a field of `DemoApiConfig` (the core ones, which `scaled`
    adjusts). A knob with a default is the endpoint's own: `DemoApiConfig.volumes[knob]` if
    set, otherwise `default` records a day at 5,000 listens a day, in proportion to
    `listens_per_day`; the generator reads it as `config.volumes[knob]`.
    """

    knob: str
    default: int | None = None

    def of(self, config: DemoApiConfig) -> int:
        if self.default is None:
            return getattr(config, self.knob)
        if self.knob in config.volumes:
            return config.volumes[self.knob]
        return max(1, round(self.default * config.listens_per_day / DEFAULT_LISTENS_PER_DAY))


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: served at `/<name>` by the demo API, extracted as the asset `raw/<name>`."""

    name: str
    description: str  # what a day of it holds: the route's and the raw asset's description
    generate: Callable[[DemoApiConfig, int], Table]  # the clean day table, by day index
    dirt: DirtSpec  # which fields the demo nulls, mistypes or messes up, and how
    volume: Volume


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        name="tracks",
        description="Tracks released on the day plus every track played on it.",
        generate=clean_tracks,
        volume=Volume("new_tracks_per_day"),
        dirt=DirtSpec(
            keys=("track_id",),
            nullable=("title", "artist", "album", "genre", "duration_ms", "release_date"),
            messy=("title", "artist", "album", "genre"),
            bad_types={
                "track_id": dirt.as_string,
                "duration_ms": dirt.minutes_and_seconds,
                "release_date": dirt.bad_date,
                "popularity": dirt.as_string,
            },
        ),
    ),
    Endpoint(
        name="users",
        description="Users who signed up on the day plus every user active on it.",
        generate=clean_users,
        volume=Volume("new_users_per_day"),
        dirt=DirtSpec(
            keys=("user_id",),
            nullable=(
                "first_name",
                "last_name",
                "email",
                "date_of_birth",
                "street",
                "city",
                "country",
                "phone",
            ),
            messy=("first_name", "last_name", "email", "street", "city", "country"),
            bad_types={
                "user_id": dirt.as_string,
                "date_of_birth": dirt.bad_date,
                "signup_at": dirt.bad_timestamp,
            },
        ),
    ),
    Endpoint(
        name="listen_history",
        description="Plays that happened on the day.",
        generate=clean_listens,
        volume=Volume("listens_per_day"),
        dirt=DirtSpec(
            keys=("listen_id", "user_id", "track_id"),
            nullable=("listened_at", "ms_played", "device"),
            messy=("device",),
            bad_types={
                "user_id": dirt.as_string,
                "track_id": dirt.as_string,
                "listened_at": dirt.bad_timestamp,
                "ms_played": dirt.not_available,
            },
        ),
    ),
    Endpoint(
        name="reviews",
        description="Reviews written on the day.",
        generate=clean_reviews,
        volume=Volume("reviews_per_day"),
        dirt=DirtSpec(
            keys=("review_id", "user_id", "track_id"),
            nullable=("rating", "text", "created_at"),
            messy=("text",),
            bad_types={
                "user_id": dirt.as_string,
                "rating": dirt.rating_word,
                "created_at": dirt.bad_timestamp,
            },
        ),
    ),
    Endpoint(
        name="playlists",
        description="Playlists edited on the day: their tracks in order, and who may see them.",
        generate=clean_playlists,
        volume=Volume(PLAYLIST_EDITS, default=500),
        dirt=DirtSpec(
            keys=("playlist_id", "user_id"),
            nullable=("name", "is_public", "track_ids"),
            messy=("name",),
            bad_types={
                "user_id": dirt.as_string,
                "is_public": dirt.bool_word,
                "track_ids": dirt.joined_list,
                "updated_at": dirt.bad_timestamp,
            },
        ),
    ),
)
ENDPOINTS_BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}


def day_table(config: DemoApiConfig, endpoint: str, day: date) -> Table:
    """The endpoint's records created or updated on the day, dirt included, in stable order."""
    spec = ENDPOINTS_BY_NAME[endpoint]
    index = (day - config.start_date).days
    clean = spec.generate(with_volumes(config), index)
    return dirt.add_dirt(
        clean, spec.dirt, config.seed, f"dirt.{endpoint}", index, config.dirty_rate
    )


def with_volumes(config: DemoApiConfig) -> DemoApiConfig:
    """The config with every endpoint's own volume knob in `volumes`, defaults filled in."""
    own = {e.volume.knob: e.volume.of(config) for e in ENDPOINTS if e.volume.default is not None}
    if own.items() <= config.volumes.items():
        return config
    return replace(config, volumes={**config.volumes, **own})
