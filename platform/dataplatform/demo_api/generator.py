"""Vectorised generation of the core endpoints' clean day tables: pure functions of (config,
day index). The registry in `endpoints` adds the dirt."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dataplatform.demo_api.config import DemoApiConfig
from dataplatform.demo_api.hashing import (
    hash64,
    pick,
    standard_normal,
    systematic_sample,
    unit,
    weighted_pick,
)
from dataplatform.demo_api.review_text import review_sentences, sentiment_of_ratings
from dataplatform.demo_api.table import (
    Column,
    Table,
    render_from,
    render_plain,
    render_prefixed,
    render_timestamps,
)
from dataplatform.demo_api.timeline import (
    Population,
    day_keys,
    day_start_seconds,
    seconds_into_day,
)
from dataplatform.demo_api.tracks import (
    durations_ms,
    genre_codes,
    play_weights,
    track_columns,
    track_population,
)
from dataplatform.demo_api.users import (
    root_user_ids,
    signup_seconds,
    user_columns,
    user_population,
)
from dataplatform.demo_api.vocab import GENRES

TASTE_SHARE = 0.7  # share of a listener's plays drawn from their favourite genre
DEVICES = ("mobile", "desktop", "web", "smart_speaker")
ORPHAN_ID_BASE = 1_000_000_000  # ids at or above this never exist
_DEVICE_SHARES = np.array([0.55, 0.2, 0.15, 0.1])
_RATING_CUTS = np.array([-1.405, -0.915, -0.358, 0.412]) * 1.25  # ~8/10/18/30/34 % of 1..5
_CACHED_DAYS = 4


@lru_cache(maxsize=_CACHED_DAYS)
def clean_listens(config: DemoApiConfig, index: int) -> Table:
    """The day's plays in time order; users and tracks skewed by activity and popularity."""
    seed = config.seed
    user_count = _count_before(user_population(config), index)
    track_count = _count_before(track_population(config), index)
    size = config.listens_per_day if user_count and track_count else 0
    numbers = np.arange(size)
    keys = day_keys(index, numbers)
    # Users come out in id order; sorting by the hashed listen times below shuffles them, and
    # an independent hashed permutation pairs them with tracks.
    users = 1 + systematic_sample(
        _activity_weights(config, user_count, index), size, _day_offset(seed, "listen.user", index)
    )
    weights = play_weights(config, np.arange(1, track_count + 1), index)
    tracks_by_id = 1 + systematic_sample(weights, size, _day_offset(seed, "listen.track", index))
    tracks = tracks_by_id[np.argsort(hash64(seed, "listen.track.shuffle", keys))]
    tracks = _with_taste(config, keys, users, tracks, weights)
    seconds = seconds_into_day(seed, "listen.time", keys)
    ms_played = _ms_played(seed, keys, durations_ms(config, tracks))
    devices = _devices(seed, keys, users)
    users, tracks = _with_orphans(config, keys, users, tracks)
    in_time_order = np.argsort(seconds, kind="stable")
    return Table.clean(
        {
            "listen_id": Column(numbers, render_prefixed(f"L{index}-")),
            "user_id": Column(users[in_time_order], render_plain),
            "track_id": Column(tracks[in_time_order], render_plain),
            "listened_at": Column(
                day_start_seconds(config.start_date, index) + seconds[in_time_order],
                render_timestamps,
            ),
            "ms_played": Column(ms_played[in_time_order], render_plain),
            "device": Column(devices[in_time_order], render_from(DEVICES)),
        }
    )


@lru_cache(maxsize=_CACHED_DAYS)
def clean_reviews(config: DemoApiConfig, index: int) -> Table:
    """Reviews written after some of the day's plays, in time order."""
    seed = config.seed
    listens = clean_listens(config, index).columns
    listen_count = len(listens["listen_id"].values)
    numbers = np.arange(config.reviews_per_day if listen_count else 0)
    keys = day_keys(index, numbers)
    source = pick(seed, "review.listen", max(listen_count, 1), keys)
    users, tracks = listens["user_id"].values[source], listens["track_id"].values[source]
    ms_played = listens["ms_played"].values[source]
    delay = ms_played // 1000 + pick(seed, "review.delay", 3600, keys)
    last_second = day_start_seconds(config.start_date, index + 1) - 1
    created = np.minimum(listens["listened_at"].values[source] + delay, last_second)
    ratings = _ratings(config, keys, users, tracks, ms_played)
    texts = review_sentences(
        seed, "review.text", sentiment_of_ratings(seed, "review.sentiment", ratings, keys), keys
    )
    in_time_order = np.argsort(created, kind="stable")
    return Table.clean(
        {
            "review_id": Column(numbers, render_prefixed(f"R{index}-")),
            "user_id": Column(users[in_time_order], render_plain),
            "track_id": Column(tracks[in_time_order], render_plain),
            "rating": Column(ratings[in_time_order], render_plain),
            "text": Column(np.array(texts, dtype=object)[in_time_order], render_plain),
            "created_at": Column(created[in_time_order], render_timestamps),
        }
    )


def clean_users(config: DemoApiConfig, index: int) -> Table:
    """Users who signed up on the day plus every user active on it (updated_at bumped)."""
    population = user_population(config)
    created = population.created_on(index)
    if index == 0:
        created_at = _times_on_day(config, "user.initial_load", created, index)
    else:
        created_at = signup_seconds(config, created)
    listens, reviews = clean_listens(config, index), clean_reviews(config, index)
    ids, updated_at = _touched_entities(
        (created, listens.columns["user_id"].values, reviews.columns["user_id"].values),
        (created_at, listens.columns["listened_at"].values, reviews.columns["created_at"].values),
        population.existing(index),
    )
    columns = user_columns(config, ids, index)
    return Table.clean(columns | {"updated_at": Column(updated_at, render_timestamps)})


def clean_tracks(config: DemoApiConfig, index: int) -> Table:
    """Tracks released on the day plus every track played on it (popularity recomputed)."""
    population = track_population(config)
    created = population.created_on(index)
    salt = "track.initial_load" if index == 0 else "track.release_time"
    created_at = _times_on_day(config, salt, created, index)
    listens = clean_listens(config, index).columns
    ids, updated_at = _touched_entities(
        (created, listens["track_id"].values),
        (created_at, listens["listened_at"].values),
        population.existing(index),
    )
    columns = track_columns(config, ids, index)
    return Table.clean(columns | {"updated_at": Column(updated_at, render_timestamps)})


def _day_offset(seed: int, salt: str, index: int) -> float:
    return float(unit(seed, salt + ".offset", index)[0])


def _count_before(population: Population, index: int) -> int:
    """Ids that exist when the day starts; on day 0, the initial ones."""
    return population.existing(max(index - 1, 0)) if index >= 0 else 0


def _times_on_day(config: DemoApiConfig, salt: str, ids: np.ndarray, index: int) -> np.ndarray:
    return day_start_seconds(config.start_date, index) + seconds_into_day(config.seed, salt, ids)


def _activity_weights(config: DemoApiConfig, user_count: int, index: int) -> np.ndarray:
    """Skewed daily activity: engaged users are active on more days, a few listen a lot."""
    seed = config.seed
    ids = np.arange(1, user_count + 1)
    engagement = unit(seed, "user.engagement", ids) ** 2
    active = unit(seed, "user.active", ids, index) < 0.75 * engagement
    heavy_tail = np.minimum((1 - unit(seed, "user.appetite", ids)) ** -0.5, 25)  # capped Pareto
    mood = 0.25 + unit(seed, "user.mood", ids, index)
    intensity = np.exp(2.5 * engagement) * heavy_tail * mood
    return np.where(active, intensity, 0.0)


def _with_taste(
    config: DemoApiConfig,
    keys: np.ndarray,
    users: np.ndarray,
    tracks: np.ndarray,
    weights: np.ndarray,
) -> np.ndarray:
    """Most plays follow the listener's favourite genre (the person's, shared by their
    accounts), drawn by popularity within it: a history carries a taste to learn."""
    seed = config.seed
    genres = genre_codes(config, np.arange(1, len(weights) + 1))
    favourite = pick(seed, "user.taste", len(GENRES), root_user_ids(config, users))
    follows = unit(seed, "listen.taste", keys) < TASTE_SHARE
    draws = unit(seed, "listen.taste.track", keys)
    result = tracks.copy()
    for genre in range(len(GENRES)):
        chosen = follows & (favourite == genre)
        in_genre = np.flatnonzero(genres == genre)
        if not chosen.any() or not len(in_genre):
            continue
        cumulative = np.cumsum(weights[in_genre])
        position = np.searchsorted(cumulative, draws[chosen] * cumulative[-1], side="right")
        result[chosen] = 1 + in_genre[np.minimum(position, len(in_genre) - 1)]
    return result


def _ms_played(seed: int, keys: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """A quarter of plays are skipped early, a fifth stop part-way, the rest play in full."""
    outcome = unit(seed, "listen.completion", keys)
    fraction = unit(seed, "listen.fraction", keys)
    skipped = np.minimum(5_000 + fraction * 25_000, durations)
    partial = durations * (0.3 + 0.65 * fraction)
    played = np.select([outcome < 0.25, outcome < 0.45], [skipped, partial], durations)
    return np.round(played).astype(np.int64)


def _devices(seed: int, keys: np.ndarray, users: np.ndarray) -> np.ndarray:
    """Mostly each user's preferred device, sometimes another."""
    preferred = weighted_pick(unit(seed, "user.device", users), _DEVICE_SHARES)
    occasional = weighted_pick(unit(seed, "listen.device", keys), _DEVICE_SHARES)
    uses_preferred = unit(seed, "listen.device.preferred", keys) < 0.8
    return np.where(uses_preferred, preferred, occasional).astype(np.int8)


def _with_orphans(
    config: DemoApiConfig, keys: np.ndarray, users: np.ndarray, tracks: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Point a few plays at a user or track id that never exists."""
    seed = config.seed
    orphan = unit(seed, "listen.orphan", keys) < config.orphan_rate
    loses_user = orphan & (pick(seed, "listen.orphan.kind", 2, keys) == 0)
    missing_ids = ORPHAN_ID_BASE + pick(seed, "listen.orphan.id", ORPHAN_ID_BASE, keys)
    loses_track = orphan & ~loses_user
    return np.where(loses_user, missing_ids, users), np.where(loses_track, missing_ids, tracks)


def _ratings(
    config: DemoApiConfig,
    keys: np.ndarray,
    users: np.ndarray,
    tracks: np.ndarray,
    ms_played: np.ndarray,
) -> np.ndarray:
    """1-5 stars from track quality, user generosity, how much was played, and mood."""
    seed = config.seed
    completion = ms_played / durations_ms(config, tracks)
    latent = (
        0.8 * standard_normal(seed, "track.quality", tracks)
        + 0.5 * standard_normal(seed, "user.generosity", users)
        + 1.5 * (completion - 0.7)
        + 0.6 * standard_normal(seed, "review.mood", keys)
    )
    return 1 + np.searchsorted(_RATING_CUTS, latent)


def _touched_entities(
    id_groups: tuple[np.ndarray, ...], second_groups: tuple[np.ndarray, ...], existing: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct existing ids (orphans dropped), sorted, each with its latest time of the day."""
    ids, seconds = np.concatenate(id_groups), np.concatenate(second_groups)
    known = (ids >= 1) & (ids <= existing)
    latest_first = np.argsort(-seconds[known], kind="stable")
    ids, seconds = ids[known][latest_first], seconds[known][latest_first]
    distinct, first_seen = np.unique(ids, return_index=True)
    return distinct, seconds[first_seen]
