"""An implicit-feedback track recommender (truncated SVD of the play matrix) and its evaluation.

Plays become a users x tracks matrix of `log1p(play count)`; a truncated SVD of it gives
track factors `V`, and a user with history row `h` scores every track as `h V Vᵀ` (the
"PureSVD" fold-in, so users unseen at training time are served from the history given).
Already-heard tracks are never recommended. Candidates are the most played tracks (at most
`CANDIDATE_TRACKS`): scoring every user against every track grows as users x tracks, which at
a million listens a day (400,000 users, 200,000 tracks) took minutes, while the long tail
almost never reaches anyone's top 10. Scoring runs on batches of users with sparse and dense
matrix products, never a Python loop per user. The popularity baseline ranks the
unheard tracks by their share of training plays (and serves users with no known history).
Evaluation is a time-based hold-out: the model sees plays before a cut-off and is scored on
the tracks each user first played after it. The model that is evaluated is the one served:
its factors and popularity come from the plays before the cut-off only, and `with_history`
then gives it every play as the history of what each user has heard (which evaluation never
reads), so that heard tracks are not recommended again.

A listener with one or two plays tells the factors little, and on a platform's first day
most listeners have no more: there the fold-in alone lost to popularity (precision@10 0.022
vs 0.025 on the demo's make-run day). So `fit_blended` adds popularity to each user's
scores with the weight that scores best on a validation split of the training plays (the
last part in time), never on the hold-out the model is then judged on.
"""

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD

TOP_K = 10
# Score cells (users x tracks) per batch: 8M float32 is 32 MB, which bounds scoring memory.
SCORING_BATCH_CELLS = 8_000_000
CANDIDATE_TRACKS = 5_000
# Popularity's weights tried on the validation split; 0 is the fold-in alone.
POPULARITY_WEIGHTS = (0.0, 0.15, 0.3, 0.5)
RECOMMENDATION_DTYPES = {
    "user_id": "int64",
    "rank": "int64",
    "track_id": "int64",
    "score": "float64",
}


@dataclass(frozen=True)
class Recommender:
    """A fitted model: track factors, popularity, and the play history it was fitted on."""

    track_ids: np.ndarray  # model column -> track id, sorted
    track_factors: np.ndarray  # (tracks, factors), float32
    popularity: np.ndarray  # (tracks,), share of plays
    user_ids: np.ndarray  # history row -> user id, sorted
    history: sp.csr_matrix  # (users, tracks), log1p(play count)
    # Popularity's share of a score (each user's fold-in scaled to at most 1, popularity too).
    # Versions pickled before the blend read this class default.
    popularity_weight: float = 0.0

    @property
    def factors(self) -> int:
        return self.track_factors.shape[1]


@dataclass(frozen=True)
class Scores:
    precision_at_k: float
    recall_at_k: float
    users: int


@dataclass(frozen=True)
class Evaluation:
    model: Scores
    popularity: Scores
    k: int

    def as_metrics(self) -> dict[str, float]:
        k = self.k
        return {
            f"precision_at_{k}": self.model.precision_at_k,
            f"recall_at_{k}": self.model.recall_at_k,
            f"popularity_precision_at_{k}": self.popularity.precision_at_k,
            f"popularity_recall_at_{k}": self.popularity.recall_at_k,
            "evaluated_users": float(self.model.users),
        }


def split_by_time(
    listens: pd.DataFrame, holdout_days: int, seen_until: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plays before the last `holdout_days` days of the history, and the plays within them.

    A history too short for that (the first days of a platform) holds out its last fifth in
    time instead, so that a first model can still be trained and judged. Plays up to
    `seen_until` (the newest play another model was fit on) are never held out, so that model
    can be scored on the hold-out too.
    """
    if listens.empty:
        raise ValueError("no listens to split")
    times = listens["listened_at"]
    cutoff = times.max().normalize() - timedelta(days=holdout_days - 1)
    if cutoff <= times.min():
        cutoff = times.max() - (times.max() - times.min()) / 5
    later = times >= cutoff
    if seen_until is not None:
        later &= times > seen_until
    if later.all() or not later.any():
        raise ValueError("every listen has the same time: nothing to train on before a hold-out")
    return cast(pd.DataFrame, listens[~later]), cast(pd.DataFrame, listens[later])


def fit(listens: pd.DataFrame, factors: int = 16, seed: int = 0) -> Recommender:
    """Fit track factors on the plays (deterministic given the seed)."""
    plays = usable_plays(listens)
    user_ids, users = np.unique(plays["user_id"].to_numpy(), return_inverse=True)
    track_ids, tracks = np.unique(plays["track_id"].to_numpy(), return_inverse=True)
    shape = (len(user_ids), len(track_ids))
    history = play_matrix(users, tracks, shape)
    rank = max(1, min(factors, min(shape) - 1))
    svd = TruncatedSVD(n_components=rank, algorithm="randomized", random_state=seed)
    svd.fit(history)
    counts = np.bincount(tracks, minlength=len(track_ids))
    return Recommender(
        track_ids=track_ids,
        track_factors=cast(np.ndarray, svd.components_).T.astype(np.float32),
        popularity=(counts / counts.sum()).astype(np.float32),
        user_ids=user_ids,
        history=history,
    )


def fit_blended(
    listens: pd.DataFrame,
    factors: int = 16,
    seed: int = 0,
    holdout_days: int = 7,
    weights: tuple[float, ...] = POPULARITY_WEIGHTS,
) -> Recommender:
    """`fit`, blending in popularity with the weight of the best precision at k on the last
    `holdout_days` of `listens` (as `split_by_time` holds out) for a model fitted before them."""
    model = fit(listens, factors, seed)
    return replace(
        model, popularity_weight=validated_weight(listens, factors, seed, holdout_days, weights)
    )


def validated_weight(
    listens: pd.DataFrame, factors: int, seed: int, holdout_days: int, weights: tuple[float, ...]
) -> float:
    """The weight with the best validation precision at k (the smallest of equals)."""
    fitted, validation = split_by_time(listens, holdout_days)
    model = fit(fitted, factors, seed)
    scores = [
        evaluate(replace(model, popularity_weight=weight), fitted, validation).model.precision_at_k
        for weight in weights
    ]
    return weights[int(np.argmax(scores))]


def with_history(model: Recommender, listens: pd.DataFrame) -> Recommender:
    """The model with `listens` as the history it serves from: what each user has heard.

    Its factors and popularity stay as fitted; tracks it was not fitted on are left out.
    """
    plays = usable_plays(listens)
    user_ids = np.unique(plays["user_id"].to_numpy())
    return replace(model, user_ids=user_ids, history=model_plays(model, plays, user_ids))


def usable_plays(listens: pd.DataFrame) -> pd.DataFrame:
    """Plays with both a user and a track (cleaned tables may still hold null ids)."""
    plays = cast(pd.DataFrame, listens[["user_id", "track_id"]]).dropna()
    return plays.astype({"user_id": np.int64, "track_id": np.int64})


def play_matrix(users: np.ndarray, tracks: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """log1p(play count) per (user, track); duplicates are summed by the COO->CSR conversion."""
    ones = np.ones(len(users), dtype=np.float32)
    # pyright infers a csr_array from scipy's code; a coo_matrix converts to a csr_matrix
    counts = cast(sp.csr_matrix, sp.coo_matrix((ones, (users, tracks)), shape=shape).tocsr())
    counts.data = np.log1p(counts.data)
    return counts


def recommend(
    model: Recommender,
    listens: pd.DataFrame,
    k: int = TOP_K,
    popular: bool = False,
    candidates: int = CANDIDATE_TRACKS,
) -> pd.DataFrame:
    """Top-k unheard tracks for every user in `listens`, from their fitted and given history.

    `listens` are plays the model may not have seen (e.g. today's); they are added to the
    history the model was fitted on. With `popular`, the popularity baseline ranks instead.
    """
    plays = usable_plays(listens)
    user_ids = np.unique(plays["user_id"].to_numpy())
    history = user_history(model, user_ids) + model_plays(model, plays, user_ids)
    return top_k(model, user_ids, history.tocsr(), k, popular, candidates)


def user_history(model: Recommender, user_ids: np.ndarray) -> sp.csr_matrix:
    """The fitted history rows of the given users (empty rows for users the model never saw)."""
    positions = np.minimum(np.searchsorted(model.user_ids, user_ids), len(model.user_ids) - 1)
    known = model.user_ids[positions] == user_ids
    selector = sp.csr_matrix(
        (np.ones(known.sum(), dtype=np.float32), (np.flatnonzero(known), positions[known])),
        shape=(len(user_ids), len(model.user_ids)),
    )
    return selector @ model.history


def model_plays(model: Recommender, plays: pd.DataFrame, user_ids: np.ndarray) -> sp.csr_matrix:
    """Plays as history rows of `user_ids`; tracks the model does not know are left out."""
    tracks = np.searchsorted(model.track_ids, plays["track_id"].to_numpy())
    tracks = np.minimum(tracks, len(model.track_ids) - 1)
    known = model.track_ids[tracks] == plays["track_id"].to_numpy()
    users = np.searchsorted(user_ids, plays["user_id"].to_numpy())
    return play_matrix(users[known], tracks[known], (len(user_ids), len(model.track_ids)))


def top_k(
    model: Recommender,
    user_ids: np.ndarray,
    history: sp.csr_matrix,
    k: int,
    popular: bool,
    candidates: int = CANDIDATE_TRACKS,
) -> pd.DataFrame:
    """Rank each history row's unheard candidate tracks, batch by batch."""
    pool = candidate_tracks(model, candidates)
    batch_size = max(1, SCORING_BATCH_CELLS // max(len(pool), 1))
    batches = [
        _top_k_batch(model, pool, user_ids[start:stop], history[start:stop], k, popular)
        for start, stop in _batches(len(user_ids), batch_size)
    ]
    if not batches:
        return pd.DataFrame(
            {name: pd.Series(dtype=dtype) for name, dtype in RECOMMENDATION_DTYPES.items()}
        )
    return pd.concat(batches, ignore_index=True)


def candidate_tracks(model: Recommender, limit: int = CANDIDATE_TRACKS) -> np.ndarray:
    """Model columns of the `limit` most played tracks, in column order."""
    if len(model.track_ids) <= limit:
        return np.arange(len(model.track_ids))
    return np.sort(np.argpartition(-model.popularity, limit - 1)[:limit])


def _batches(total: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def _top_k_batch(
    model: Recommender,
    candidates: np.ndarray,
    user_ids: np.ndarray,
    history: sp.csr_matrix,
    k: int,
    popular: bool,
) -> pd.DataFrame:
    scores = _scores(model, candidates, history, popular)
    heard = history[:, candidates].nonzero()
    scores[heard] = -np.inf
    k = min(k, scores.shape[1])
    best = np.argpartition(scores, -k, axis=1)[:, -k:]
    best_scores = np.take_along_axis(scores, best, axis=1)
    order = np.argsort(-best_scores, axis=1, kind="stable")
    best, best_scores = (np.take_along_axis(a, order, axis=1) for a in (best, best_scores))
    kept = np.isfinite(best_scores)  # a user who heard nearly everything gets fewer
    ranks = np.broadcast_to(np.arange(1, k + 1), best.shape)
    return pd.DataFrame(
        {
            "user_id": np.repeat(user_ids, k).reshape(best.shape)[kept],
            "rank": ranks[kept].astype(np.int64),
            "track_id": model.track_ids[candidates[best[kept]]],
            "score": best_scores[kept].astype(np.float64),
        }
    )


def _scores(
    model: Recommender, candidates: np.ndarray, history: sp.csr_matrix, popular: bool
) -> np.ndarray:
    popularity = model.popularity[candidates]
    if popular:
        rows, _ = cast(tuple[int, int], history.shape)
        return np.tile(popularity, (rows, 1))
    scores = np.asarray(history @ model.track_factors) @ model.track_factors[candidates].T
    if model.popularity_weight > 0:
        # Both on one scale (at most 1) before blending: fold-in scores vary by user.
        largest = np.abs(scores).max(axis=1, keepdims=True)
        scores = (1 - model.popularity_weight) * scores / np.where(largest > 0, largest, 1)
        scores += model.popularity_weight * popularity / max(float(popularity.max()), 1e-12)
    no_history = history.getnnz(axis=1) == 0  # nothing to fold in: fall back to popularity
    scores[no_history] = popularity
    return scores


def evaluate(
    model: Recommender, train: pd.DataFrame, holdout: pd.DataFrame, k: int = TOP_K
) -> Evaluation:
    """Precision and recall at k of the model and of the popularity baseline on the hold-out.

    Users are those with plays on both sides; their history is the training plays only (not
    what the model stored), so any model, the current champion included, is scored alike.
    A relevant track is one the user played in the hold-out and not before.
    """
    train_plays, holdout_plays = usable_plays(train), usable_plays(holdout)
    train_users = cast(pd.Series, train_plays["user_id"])
    holdout_users = cast(pd.Series, holdout_plays["user_id"])
    user_ids = np.intersect1d(  # int64 ids (see usable_plays): unique() gives numpy arrays
        cast(np.ndarray, train_users.unique()), cast(np.ndarray, holdout_users.unique())
    )
    train_plays = cast(pd.DataFrame, train_plays[train_users.isin(user_ids)])
    relevant = _relevant_pairs(
        train_plays, cast(pd.DataFrame, holdout_plays[holdout_users.isin(user_ids)])
    )
    history = model_plays(model, train_plays, user_ids)
    return Evaluation(
        model=_scores_against(top_k(model, user_ids, history, k, False), relevant, k),
        popularity=_scores_against(top_k(model, user_ids, history, k, True), relevant, k),
        k=k,
    )


def _relevant_pairs(train: pd.DataFrame, holdout: pd.DataFrame) -> pd.DataFrame:
    pairs = holdout.drop_duplicates()
    heard = pairs.merge(train.drop_duplicates(), how="left", indicator=True)["_merge"] == "both"
    return cast(pd.DataFrame, pairs[~heard.to_numpy()])


def _scores_against(recommended: pd.DataFrame, relevant: pd.DataFrame, k: int) -> Scores:
    relevant_per_user = relevant.groupby("user_id").size()
    hits = recommended.merge(relevant, on=["user_id", "track_id"]).groupby("user_id").size()
    hits = hits.reindex(relevant_per_user.index, fill_value=0)
    if relevant_per_user.empty:
        return Scores(precision_at_k=0.0, recall_at_k=0.0, users=0)
    return Scores(
        precision_at_k=float((hits / k).mean()),
        recall_at_k=float((hits / relevant_per_user).mean()),
        users=len(relevant_per_user),
    )


# Plays before the cut-off: [low, high) -> slice name. A first day's listeners have one or two.
HISTORY_SLICES = {
    (1, 3): "1-2 plays",
    (3, 10): "3-9 plays",
    (10, 2**62): "10 plays or more",
}


def evaluate_by_history(
    model: Recommender, train: pd.DataFrame, holdout: pd.DataFrame, k: int = TOP_K
) -> dict[str, Evaluation]:
    """`evaluate` on the users of each history length (their plays before the cut-off)."""
    plays_per_user = usable_plays(train).groupby("user_id").size()
    slices = {}
    for (low, high), name in HISTORY_SLICES.items():
        in_slice = (plays_per_user >= low) & (plays_per_user < high)
        users = cast(pd.Series, plays_per_user[in_slice]).index.to_list()
        slices[name] = evaluate(
            model,
            cast(pd.DataFrame, train[train["user_id"].isin(users)]),
            cast(pd.DataFrame, holdout[holdout["user_id"].isin(users)]),
            k,
        )
    return slices
