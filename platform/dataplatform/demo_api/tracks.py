"""Tracks: a growing seed-derived catalogue of titles, artists and albums with daily popularity."""

from __future__ import annotations

import numpy as np

from dataplatform.demo_api.config import DemoApiConfig
from dataplatform.demo_api.hashing import pick, standard_normal, unit
from dataplatform.demo_api.table import (
    Column,
    render_dates,
    render_plain,
)
from dataplatform.demo_api.timeline import Population, epoch_day
from dataplatform.demo_api.vocab import (
    ADJECTIVES,
    FIRST_NAMES,
    GENRES,
    LAST_NAMES,
    NOUNS,
    VERBS,
)

_ADJECTIVES = np.array(ADJECTIVES, dtype=object)
_NOUNS = np.array(NOUNS, dtype=object)
_VERBS = np.array(VERBS, dtype=object)
_FIRST_NAMES = np.array(FIRST_NAMES, dtype=object)
_LAST_NAMES = np.array(LAST_NAMES, dtype=object)
_GENRES = np.array(GENRES, dtype=object)
_ALBUMS_PER_ARTIST = 4
_CATALOGUE_YEARS = 25


def track_population(config: DemoApiConfig) -> Population:
    return Population(config.initial_tracks, config.new_tracks_per_day)


def play_weights(config: DemoApiConfig, track_ids: np.ndarray, day_index: int) -> np.ndarray:
    """Relative chance of each track being played on the day.

    A Zipf-like head (a few hits take a large share), a thin tail, and a fading boost for
    new releases.
    """
    appeal = unit(config.seed, "track.appeal", track_ids)
    boost = 1 + 4 * _novelty(config, track_ids, day_index)
    return (1 - appeal + 1e-4) ** -0.9 * appeal**4 * boost


def durations_ms(config: DemoApiConfig, track_ids: np.ndarray) -> np.ndarray:
    spread = standard_normal(config.seed, "track.duration", track_ids)
    return np.clip(np.round(210_000 * np.exp(0.3 * spread)), 45_000, 720_000).astype(np.int64)


def track_columns(
    config: DemoApiConfig, track_ids: np.ndarray, day_index: int
) -> dict[str, Column]:
    """Every track field except updated_at, as of the given day."""
    ids = np.asarray(track_ids, dtype=np.int64)
    seed = config.seed
    artists = _artists(config, ids)
    artist_names = _artist_names(seed, artists)
    albums = artists * _ALBUMS_PER_ARTIST + pick(seed, "track.album", _ALBUMS_PER_ARTIST, ids)
    return {
        "track_id": Column(ids, render_plain),
        "title": Column(_titles(seed, ids), render_plain),
        "artist": Column(artist_names, render_plain),
        "album": Column(_album_names(seed, albums, artist_names), render_plain),
        "genre": Column(_GENRES[genre_codes(config, ids)], render_plain),
        "duration_ms": Column(durations_ms(config, ids), render_plain),
        "release_date": Column(_release_days(config, ids), render_dates),
        "popularity": Column(_daily_popularity(config, ids, day_index), render_plain),
    }


def _novelty(config: DemoApiConfig, ids: np.ndarray, day_index: int) -> np.ndarray:
    """1 on a new track's release day, fading over a few weeks; 0 for the initial catalogue."""
    released = track_population(config).creation_days(ids)
    age = np.maximum(day_index - released, 0)
    return np.where(released > 0, np.exp(-age / 21), 0.0)


def _daily_popularity(config: DemoApiConfig, ids: np.ndarray, day_index: int) -> np.ndarray:
    """0-100, following the play weights: appeal, novelty and a little day-to-day jitter."""
    appeal = unit(config.seed, "track.appeal", ids)
    jitter = pick(config.seed, "track.popularity.jitter", 7, ids, day_index) - 3
    scores = np.round(100 * appeal**2.2 + 30 * _novelty(config, ids, day_index)) + jitter
    return np.clip(scores, 0, 100).astype(np.int64)


def _release_days(config: DemoApiConfig, ids: np.ndarray) -> np.ndarray:
    """Epoch days of release; the initial catalogue spans decades, skewed to recent years."""
    created = track_population(config).creation_days(ids)
    years_back = _CATALOGUE_YEARS * unit(config.seed, "track.release", ids) ** 2.5
    back_catalogue = -1 - np.floor(365.25 * years_back).astype(np.int64)
    return epoch_day(config.start_date) + np.where(created == 0, back_catalogue, created)


def _titles(seed: int, ids: np.ndarray) -> np.ndarray:
    adjective = _ADJECTIVES[pick(seed, "track.title.adjective", len(_ADJECTIVES), ids)]
    noun = _NOUNS[pick(seed, "track.title.noun", len(_NOUNS), ids)]
    other_noun = _NOUNS[pick(seed, "track.title.other_noun", len(_NOUNS), ids)]
    verb = _VERBS[pick(seed, "track.title.verb", len(_VERBS), ids)]
    patterns = (
        adjective + " " + noun,
        noun,
        verb + " the " + noun,
        noun + " of " + other_noun,
        "Don't " + verb,
        adjective + " " + noun + " (Live)",
    )
    return np.choose(pick(seed, "track.title.pattern", len(patterns), ids), patterns)


def _artist_names(seed: int, artists: np.ndarray) -> np.ndarray:
    first = _FIRST_NAMES[pick(seed, "artist.first_name", len(_FIRST_NAMES), artists)]
    last = _LAST_NAMES[pick(seed, "artist.last_name", len(_LAST_NAMES), artists)]
    adjective = _ADJECTIVES[pick(seed, "artist.adjective", len(_ADJECTIVES), artists)]
    noun = _NOUNS[pick(seed, "artist.noun", len(_NOUNS), artists)]
    patterns = (
        first + " " + last,
        "The " + adjective + " " + noun,
        adjective + " " + noun,
        "DJ " + noun,
        last + " & the " + noun,
    )
    return np.choose(pick(seed, "artist.pattern", len(patterns), artists), patterns)


def _album_names(seed: int, albums: np.ndarray, artist_names: np.ndarray) -> np.ndarray:
    adjective = _ADJECTIVES[pick(seed, "album.adjective", len(_ADJECTIVES), albums)]
    noun = _NOUNS[pick(seed, "album.noun", len(_NOUNS), albums)]
    patterns = (adjective + " " + noun, noun, "Songs from the " + noun, artist_names)
    return np.choose(pick(seed, "album.pattern", len(patterns), albums), patterns)


def genre_codes(config: DemoApiConfig, track_ids: np.ndarray) -> np.ndarray:
    """Index into GENRES of each track: mostly its artist's genre, sometimes an excursion."""
    seed = config.seed
    artist_genre = pick(seed, "artist.genre", len(_GENRES), _artists(config, track_ids))
    excursion = pick(seed, "track.genre", len(_GENRES), track_ids)
    strays = unit(seed, "track.genre.excursion", track_ids) < 0.1
    return np.where(strays, excursion, artist_genre)


def _artists(config: DemoApiConfig, track_ids: np.ndarray) -> np.ndarray:
    return pick(config.seed, "track.artist", max(20, config.initial_tracks // 8), track_ids)
