"""Playlists: listeners keep a few, edit them on days they listen and fill them with what they
played that day."""

from __future__ import annotations

import numpy as np

from dataplatform.demo_api.config import DemoApiConfig
from dataplatform.demo_api.generator import clean_listens
from dataplatform.demo_api.hashing import pick, unit
from dataplatform.demo_api.table import Column, Table, render_plain, render_timestamps
from dataplatform.demo_api.timeline import day_keys, day_start_seconds
from dataplatform.demo_api.vocab import ADJECTIVES, NOUNS

VOLUME_KNOB = "playlist_edits_per_day"  # declared with its default in `endpoints`
PLAYLISTS_PER_USER = 3
MAX_TRACKS = 30
PUBLIC_SHARE = 0.6
_ROW_STRIDE = 1 << 32  # above every track id, orphans included
_ADJECTIVES = np.array(ADJECTIVES, dtype=object)
_NOUNS = np.array(NOUNS, dtype=object)


def clean_playlists(config: DemoApiConfig, index: int) -> Table:
    """Each playlist edited on the day, once, as it stands after its last edit, in time order.

    An edit follows one of the day's plays: the listener edits one of their playlists (whose
    id encodes its owner), which then holds tracks played that day, so its references resolve
    like the plays' own.
    """
    seed = config.seed
    listens = clean_listens(config, index).columns
    listen_count = len(listens["listen_id"].values)
    keys = day_keys(index, np.arange(config.volumes[VOLUME_KNOB] if listen_count else 0))
    source = pick(seed, "playlist.listen", max(listen_count, 1), keys)
    owners = listens["user_id"].values[source]
    ids = owners * PLAYLISTS_PER_USER + pick(seed, "playlist.slot", PLAYLISTS_PER_USER, keys)
    delay = listens["ms_played"].values[source] // 1000 + pick(seed, "playlist.delay", 1800, keys)
    last_second = day_start_seconds(config.start_date, index + 1) - 1
    edited = np.minimum(listens["listened_at"].values[source] + delay, last_second)
    rows = _last_edit_of_each(ids, edited)
    ids, owners, edited = ids[rows], owners[rows], edited[rows]
    return Table.clean(
        {
            "playlist_id": Column(ids, render_plain),
            "user_id": Column(owners, render_plain),
            "name": Column(_names(seed, ids), render_plain),
            "is_public": Column(unit(seed, "playlist.public", ids) < PUBLIC_SHARE, render_plain),
            "track_ids": Column(_track_lists(config, ids, index, listens), render_plain),
            "updated_at": Column(edited, render_timestamps),
        }
    )


def _last_edit_of_each(ids: np.ndarray, edited: np.ndarray) -> np.ndarray:
    """Rows of each id's latest edit, in time order."""
    latest_first = np.argsort(-edited, kind="stable")
    _, first_seen = np.unique(ids[latest_first], return_index=True)
    rows = latest_first[first_seen]
    return rows[np.argsort(edited[rows], kind="stable")]


def _track_lists(
    config: DemoApiConfig, ids: np.ndarray, index: int, listens: dict[str, Column]
) -> np.ndarray:
    """Each playlist's tracks after the day's edit: up to MAX_TRACKS distinct tracks of the
    day's plays (drawn by play, so popular ones more often), in the order they were added."""
    played = listens["track_id"].values
    lengths = pick(config.seed, "playlist.length", MAX_TRACKS + 1, ids, index)
    rows = np.repeat(np.arange(len(ids)), lengths)
    positions = np.arange(len(rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    drawn = pick(config.seed, "playlist.track", max(len(played), 1), ids[rows], positions, index)
    tracks = played[drawn] if len(played) else np.zeros(0, dtype=np.int64)
    # A track drawn twice for one playlist is added once, where it was first drawn.
    _, first = np.unique(rows * _ROW_STRIDE + tracks, return_index=True)
    kept = np.sort(first)
    counts = np.bincount(rows[kept], minlength=len(ids))
    ends = np.cumsum(counts)
    flat = tracks[kept].tolist()
    lists = (flat[a:b] for a, b in zip((ends - counts).tolist(), ends.tolist(), strict=True))
    return np.fromiter(lists, dtype=object, count=len(ids))


def _names(seed: int, ids: np.ndarray) -> np.ndarray:
    adjective = _ADJECTIVES[pick(seed, "playlist.name.adjective", len(_ADJECTIVES), ids)]
    noun = _NOUNS[pick(seed, "playlist.name.noun", len(_NOUNS), ids)]
    patterns = (adjective + " " + noun, noun + " mix", "Songs for a " + noun, adjective + " vibes")
    return np.choose(pick(seed, "playlist.name.pattern", len(patterns), ids), patterns)
