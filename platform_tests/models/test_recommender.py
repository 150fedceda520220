"""The recommender: hold-out split, top-10 without heard tracks, and beating popularity where
listeners have tastes."""

import numpy as np
import pandas as pd
import pytest

from dataplatform.demo_api import DemoApiConfig
from dataplatform.demo_api.generator import clean_listens
from dataplatform.models.recommender import (
    candidate_tracks,
    evaluate,
    fit,
    fit_blended,
    recommend,
    split_by_time,
    with_history,
)
from platform_tests.demo_data import SMALL

START = pd.Timestamp("2026-01-01", tz="UTC")


def demo_listens(config: DemoApiConfig = SMALL, days: int = 14, first: int = 0) -> pd.DataFrame:
    """The demo API's clean listens of `days` days from day `first`, typed as `cleaned/listens`."""
    frames = []
    for index in range(first, first + days):
        columns = clean_listens(config, index).columns
        frames.append(
            pd.DataFrame(
                {
                    "listen_id": [f"L{index}-{n}" for n in range(len(columns["user_id"].values))],
                    "user_id": pd.array(columns["user_id"].values, dtype="Int64"),
                    "track_id": pd.array(columns["track_id"].values, dtype="Int64"),
                    "listened_at": pd.to_datetime(
                        columns["listened_at"].values, unit="s", utc=True
                    ),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def listeners_with_tastes(
    users: int = 1_000, tracks: int = 600, genres: int = 6, listens: int = 40_000, seed: int = 3
) -> pd.DataFrame:
    """Each user plays mostly (80%) from one genre, popular tracks more, over 30 days."""
    rng = np.random.default_rng(seed)
    user_genre, track_genre = rng.integers(genres, size=users), rng.integers(genres, size=tracks)
    appeal = rng.pareto(1.2, tracks) + 1
    who = rng.integers(users, size=listens)
    in_taste = rng.random(listens) < 0.8
    what = rng.choice(tracks, size=listens, p=appeal / appeal.sum())
    for genre in range(genres):
        pool = np.flatnonzero(track_genre == genre)
        chosen = in_taste & (user_genre[who] == genre)
        weights = appeal[pool] / appeal[pool].sum()
        what[chosen] = rng.choice(pool, size=chosen.sum(), p=weights)
    seconds = rng.integers(30 * 86_400, size=listens)
    return pd.DataFrame(
        {
            "user_id": who + 1,
            "track_id": what + 1,
            "listened_at": START + pd.to_timedelta(seconds, unit="s"),
        }
    )


def test_the_hold_out_is_the_last_days_and_training_is_everything_before() -> None:
    listens = listeners_with_tastes()

    train, holdout = split_by_time(listens, holdout_days=7)

    assert len(train) + len(holdout) == len(listens)
    assert holdout["listened_at"].min() >= pd.Timestamp("2026-01-24", tz="UTC")
    assert train["listened_at"].max() < pd.Timestamp("2026-01-24", tz="UTC")


def test_a_history_shorter_than_the_hold_out_holds_out_its_last_fifth() -> None:
    listens = listeners_with_tastes()
    one_day = listens.assign(listened_at=START + (listens["listened_at"] - START) / 30)

    train, holdout = split_by_time(one_day, holdout_days=7)

    assert len(train) + len(holdout) == len(one_day)
    assert train["listened_at"].max() < holdout["listened_at"].min()
    assert 0.1 < len(holdout) / len(one_day) < 0.3


def test_a_history_without_time_to_split_is_refused() -> None:
    listens = listeners_with_tastes().head(100).assign(listened_at=START)

    with pytest.raises(ValueError, match="nothing to train on"):
        split_by_time(listens, holdout_days=7)


def test_nothing_another_model_was_fitted_on_is_held_out() -> None:
    listens = listeners_with_tastes()
    seen_until = pd.Timestamp("2026-01-27 12:00", tz="UTC")  # after the 7-day cut-off, the 24th

    train, holdout = split_by_time(listens, holdout_days=7, seen_until=seen_until)

    assert len(train) + len(holdout) == len(listens)
    assert train["listened_at"].max() <= seen_until < holdout["listened_at"].min()


def test_the_served_model_excludes_every_heard_track_but_is_scored_as_fitted() -> None:
    listens = listeners_with_tastes()
    train, holdout = split_by_time(listens, holdout_days=7)
    model = fit(train, factors=8)

    served = with_history(model, listens)

    assert np.array_equal(served.track_factors, model.track_factors)
    assert np.array_equal(served.popularity, model.popularity)
    users = train[train["user_id"].isin(holdout["user_id"].unique()[:100])]
    heard = listens[listens["user_id"].isin(users["user_id"])][["user_id", "track_id"]]
    overlap = [
        len(recommend(recommender, users).merge(heard.drop_duplicates()))
        for recommender in (model, served)
    ]
    assert overlap[0] > 0 and overlap[1] == 0
    assert evaluate(served, train, holdout) == evaluate(model, train, holdout)


def test_it_beats_the_popularity_baseline_when_listeners_have_tastes() -> None:
    train, holdout = split_by_time(listeners_with_tastes(), holdout_days=7)

    evaluation = evaluate(fit(train, factors=16), train, holdout)

    assert evaluation.model.users > 500
    assert evaluation.model.precision_at_k > 1.5 * evaluation.popularity.precision_at_k
    assert evaluation.model.recall_at_k > 1.5 * evaluation.popularity.recall_at_k


def test_on_demo_listens_it_learns_each_listeners_taste_and_beats_popularity() -> None:
    # Demo listeners play mostly their favourite genre, which popularity cannot know.
    train, holdout = split_by_time(demo_listens(), holdout_days=4)

    evaluation = evaluate(fit(train, factors=16), train, holdout)

    assert evaluation.popularity.users == evaluation.model.users > 100
    assert evaluation.model.precision_at_k > evaluation.popularity.precision_at_k
    assert evaluation.model.recall_at_k > evaluation.popularity.recall_at_k


def test_where_histories_are_one_day_short_popularity_blended_in_beats_popularity() -> None:
    # The make-run day (2026-12-04) alone: most of its listeners have one or two plays.
    train, holdout = split_by_time(demo_listens(DemoApiConfig(), days=1, first=337), 7)

    alone = evaluate(fit(train), train, holdout)
    model = fit_blended(train)
    blended = evaluate(model, train, holdout)

    # measured: fold-in 0.0223, blended (weight 0.3) 0.0300, popularity 0.0252
    assert alone.model.precision_at_k < alone.popularity.precision_at_k
    assert model.popularity_weight > 0
    assert blended.model.precision_at_k > blended.popularity.precision_at_k


def test_top_10_is_ranked_unheard_and_covers_every_user_given() -> None:
    listens = listeners_with_tastes()
    model = fit(listens, factors=8)
    today = listens.sample(200, random_state=1)

    table = recommend(model, today)

    assert list(table.columns) == ["user_id", "rank", "track_id", "score"]
    assert set(table["user_id"]) == set(today["user_id"])
    by_user = table.groupby("user_id")
    assert by_user["rank"].apply(list).map(lambda ranks: ranks == list(range(1, 11))).all()
    assert by_user["score"].apply(lambda scores: scores.is_monotonic_decreasing).all()
    heard = listens[listens["user_id"].isin(today["user_id"])][["user_id", "track_id"]]
    assert table.merge(heard.drop_duplicates(), on=["user_id", "track_id"]).empty


def test_a_user_with_no_known_history_gets_the_most_popular_tracks() -> None:
    listens = listeners_with_tastes()
    model = fit(listens, factors=8)
    most_popular = model.track_ids[np.argsort(-model.popularity, kind="stable")]
    newcomer = pd.DataFrame({"user_id": [999_999], "track_id": [10**9]})  # a track it never saw

    table = recommend(model, newcomer)

    assert table["track_id"].tolist() == most_popular[:10].tolist()


def test_a_new_users_plays_are_folded_in_and_excluded() -> None:
    listens = listeners_with_tastes()
    model = fit(listens, factors=8)
    regular = listens[listens["user_id"] == 1]
    newcomer = regular.assign(user_id=999_999)

    table = recommend(model, newcomer)

    assert table["track_id"].tolist() == recommend(model, regular)["track_id"].tolist()
    assert not set(table["track_id"]) & set(regular["track_id"])


def test_a_day_without_listens_gives_an_empty_typed_table() -> None:
    model = fit(listeners_with_tastes(), factors=8)
    nobody = pd.DataFrame({"user_id": pd.array([], "Int64"), "track_id": pd.array([], "Int64")})

    table = recommend(model, nobody)

    assert table.empty
    assert table.dtypes.astype(str).to_dict() == {
        "user_id": "int64",
        "rank": "int64",
        "track_id": "int64",
        "score": "float64",
    }


def test_fitting_is_deterministic_given_the_seed() -> None:
    listens = listeners_with_tastes()

    first, second = (recommend(fit(listens, seed=5), listens.head(300)) for _ in range(2))

    pd.testing.assert_frame_equal(first, second)


def test_only_the_most_played_tracks_are_candidates() -> None:
    listens = listeners_with_tastes()
    model = fit(listens, seed=1)
    plays = listens["track_id"].value_counts()
    pool = model.track_ids[candidate_tracks(model, limit=50)]
    assert len(pool) == 50
    assert plays[pool].min() >= plays.drop(pool).max()

    table = recommend(model, listens.head(500), candidates=50)

    assert set(table["track_id"]) <= set(pool)
    assert table.groupby("user_id").size().eq(10).all()
