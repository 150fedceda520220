"""Publishing days into the mart, alike in DuckDB and PostgreSQL: history, idempotence, faults."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from platform_tests.mart.conftest import DAY_1, DAY_2, listens, write_source

from dataplatform.mart.connection import connect
from dataplatform.mart.days import read_day, source_path
from dataplatform.mart.publish import MartConnection, PublishedDay, publish_day
from dataplatform.mart.schema import MartSchemaError, quoted
from dataplatform.mart.tables import (
    LISTENS,
    MART_TABLES,
    RECOMMENDATIONS,
    USER_GOLDEN,
    USERS,
)
from dataplatform.mart.target import mart_target

OpenMart = Callable[[], AbstractContextManager[MartConnection]]
TABLES = ("users", "tracks", "listens", "reviews", "user_entities", "user_golden")


def publish(open_mart: OpenMart, data: Path, day: str) -> PublishedDay:
    with open_mart() as mart:
        return publish_day(
            mart, day, {t: read_day(source_path(str(data), t, day), t, day) for t in MART_TABLES}
        )


def select(open_mart: OpenMart, sql: str) -> list[tuple[Any, ...]]:
    with open_mart() as mart:
        return mart.query(sql.replace("{s}", quoted(mart.schema_name)))


def contents(open_mart: OpenMart) -> dict[str, list[tuple[Any, ...]]]:
    return {name: sorted(select(open_mart, f"SELECT * FROM {{s}}.{name}")) for name in TABLES}


def ts(day: str, hour: int) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=UTC)


def test_users_are_a_type_2_dimension_with_a_current_view(open_mart: OpenMart, history: Path):
    publish(open_mart, history, DAY_1)
    publish(open_mart, history, DAY_2)

    versions = select(
        open_mart,
        "SELECT user_id, city, valid_from, valid_to, is_current FROM {s}.users ORDER BY 1, 3",
    )
    assert versions == [
        (1, "Lyon", ts(DAY_1, 9), None, True),
        (2, "Paris", ts(DAY_1, 10), ts(DAY_2, 10), False),
        (2, "Nice", ts(DAY_2, 10), None, True),
        (3, "Oslo", ts(DAY_1, 11), None, True),
        (4, "Rome", ts(DAY_2, 12), None, True),
    ]
    current = select(open_mart, "SELECT user_id, city FROM {s}.users_current ORDER BY 1")
    assert current == [(1, "Lyon"), (2, "Nice"), (3, "Oslo"), (4, "Rome")]
    genres = select(open_mart, "SELECT track_id, genre FROM {s}.tracks_current ORDER BY 1")
    assert genres == [(10, "rock"), (11, "pop")]


def test_publishing_a_day_again_or_out_of_order_gives_the_same_mart(
    open_mart: OpenMart, history: Path
):
    publish(open_mart, history, DAY_1)
    publish(open_mart, history, DAY_2)
    in_order = contents(open_mart)

    again = publish(open_mart, history, DAY_1)  # replaces day 1; day 2's history stays settled
    publish(open_mart, history, DAY_2)

    assert contents(open_mart) == in_order
    assert {t.name: t.day_rows for t in again.tables} == {
        "users": 3,
        "tracks": 2,
        "listens": 2,
        "reviews": 1,
        "user_entities": 0,  # the mart holds day 2's entities: an older day leaves them
        "user_golden": 0,
    }
    days = select(open_mart, "SELECT DISTINCT day, table_name FROM {s}.mart_publications")
    assert len(days) == 2 * len(TABLES)


def test_days_published_in_reverse_order_settle_the_same_history(
    open_mart: OpenMart, history: Path
):
    publish(open_mart, history, DAY_2)
    publish(open_mart, history, DAY_1)

    versions = select(
        open_mart, "SELECT user_id, valid_to IS NULL, is_current FROM {s}.users ORDER BY 1, 2"
    )
    current, replaced = (True, True), (False, False)
    assert versions == [(1, *current), (2, *replaced), (2, *current), (3, *current), (4, *current)]
    entities = select(open_mart, "SELECT as_of, count(*) FROM {s}.user_entities GROUP BY 1")
    assert [(day.isoformat(), n) for day, n in entities] == [(DAY_2, 4)]


def test_facts_carry_their_day_and_text_survives_the_load(open_mart: OpenMart, history: Path):
    publish(open_mart, history, DAY_1)
    publish(open_mart, history, DAY_2)

    per_day = select(open_mart, "SELECT day, count(*) FROM {s}.listens GROUP BY 1 ORDER BY 1")
    assert [(day.isoformat(), n) for day, n in per_day] == [(DAY_1, 2), (DAY_2, 2)]
    review = select(
        open_mart, "SELECT user_id, text FROM {s}.reviews WHERE day = DATE '2026-03-01'"
    )
    assert review == [(None, 'great, "really"\nsecond line')]
    nulls = select(open_mart, "SELECT count(*) FROM {s}.listens WHERE ms_played IS NULL")
    assert nulls == [(2,)]
    entity_columns = select(open_mart, "SELECT * FROM {s}.user_entities WHERE user_id = 4")
    assert len(entity_columns[0]) == 3  # user_id, entity_id, as_of: the prepared__ ones left out


def test_a_retyped_column_fails_the_day_and_publishes_none_of_it(
    open_mart: OpenMart, history: Path
):
    publish(open_mart, history, DAY_1)
    before = contents(open_mart)
    retyped = listens(DAY_2).set_column(4, "ms_played", pa.array(["1000", "x"]))
    write_source(history, ("cleaned", "listens"), DAY_2, retyped)

    with pytest.raises(MartSchemaError, match=r"listens: .*retyped: ms_played \(bigint -> text\)"):
        publish(open_mart, history, DAY_2)

    assert contents(open_mart) == before  # users were published before listens failed: undone


def test_a_dropped_column_fails_the_day(open_mart: OpenMart, history: Path):
    publish(open_mart, history, DAY_1)
    write_source(history, ("cleaned", "listens"), DAY_2, listens(DAY_2).drop_columns("ms_played"))

    with pytest.raises(MartSchemaError, match="dropped: ms_played"):
        publish(open_mart, history, DAY_2)

    assert select(open_mart, "SELECT count(*) FROM {s}.users") == [(3,)]


def test_a_new_column_upstream_is_added_to_the_table_and_its_view(
    open_mart: OpenMart, history: Path
):
    publish(open_mart, history, DAY_1)
    users = pa.table(
        {
            "user_id": pa.array([2], pa.int64()),
            "first_name": ["user2"],
            "city": ["Nice"],
            "updated_at": pa.array([ts(DAY_2, 10)], pa.timestamp("us", tz="UTC")),
            "plan": ["premium"],
        }
    )
    write_source(history, ("cleaned", "users"), DAY_2, users)

    publish(open_mart, history, DAY_2)

    plans = select(open_mart, "SELECT user_id, plan FROM {s}.users_current ORDER BY 1")
    assert plans == [(1, None), (2, "premium"), (3, None)]


def test_model_outputs_are_optional_until_a_model_has_scored_the_day(
    open_mart: OpenMart, history: Path
):
    published = publish(open_mart, history, DAY_1)
    assert "recommendations" not in {t.name for t in published.tables}

    recommendations = pa.table(
        {
            "user_id": pa.array([1, 1], pa.int64()),
            "rank": pa.array([1, 2], pa.int64()),
            "track_id": pa.array([11, 10], pa.int64()),
            "score": [0.9, 0.5],
        }
    )
    write_source(history, RECOMMENDATIONS.source, DAY_1, recommendations)
    with open_mart() as mart:
        publish_day(
            mart,
            DAY_1,
            {
                RECOMMENDATIONS: read_day(
                    source_path(str(history), RECOMMENDATIONS, DAY_1), RECOMMENDATIONS, DAY_1
                )
            },
        )
        publish_day(
            mart,
            DAY_1,
            {
                RECOMMENDATIONS: read_day(
                    source_path(str(history), RECOMMENDATIONS, DAY_1), RECOMMENDATIONS, DAY_1
                )
            },
        )

    top = select(open_mart, "SELECT user_id, rank, track_id FROM {s}.recommendations ORDER BY 2")
    assert top == [(1, 1, 11), (1, 2, 10)]


def test_a_missing_daily_source_names_the_asset_to_materialise(history: Path):
    with pytest.raises(FileNotFoundError, match="materialise cleaned/users for 2026-03-09"):
        read_day(source_path(str(history), USERS, "2026-03-09"), USERS, "2026-03-09")


def test_a_new_column_in_a_fact_is_added_and_earlier_days_read_null(
    open_mart: OpenMart, history: Path
):
    publish(open_mart, history, DAY_1)
    with_country = listens(DAY_2).append_column("country", pa.array(["FR", "NO"]))
    write_source(history, ("cleaned", "listens"), DAY_2, with_country)

    publish(open_mart, history, DAY_2)

    countries = select(open_mart, "SELECT day, country FROM {s}.listens ORDER BY 1, 2")
    assert [(day.isoformat(), country) for day, country in countries] == [
        (DAY_1, None),
        (DAY_1, None),
        (DAY_2, "FR"),
        (DAY_2, "NO"),
    ]


def test_a_large_day_read_in_batches_is_stored_in_full_row_groups(tmp_path: Path):
    """Batches inserted in parallel would leave partial row groups for the commit's
    checkpoint to merge and compress again (seconds for a 1,000,000-listens day)."""
    rows, row_group = 300_000, 122_880
    day_listens = pa.concat_tables([listens(DAY_1)] * (rows // 2))
    data = tmp_path / "data"
    write_source(data, ("cleaned", "listens"), DAY_1, day_listens)
    source = read_day(source_path(str(data), LISTENS, DAY_1), LISTENS, DAY_1)
    assert source is not None and source.column("listen_id").num_chunks > 1
    with connect(mart_target("", str(tmp_path))) as mart:
        published = publish_day(mart, DAY_1, {LISTENS: source})
        assert published.tables[0].day_rows == rows
        (row_groups,) = mart.query(
            "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('listens')"
        )[0]
    assert row_groups == -(-rows // row_group)


def test_distinct_text_ids_are_stored_uncompressed(history: Path):
    """Distinct ids give DuckDB's dictionary nothing to share; compressing them cost 6x
    their Parquet write (`schema.column_definition`)."""
    tables = (LISTENS, USER_GOLDEN)
    with connect(mart_target("", str(history))) as mart:
        publish_day(
            mart,
            DAY_1,
            {t: read_day(source_path(str(history), t, DAY_1), t, DAY_1) for t in tables},
        )
        mart.execute("CHECKPOINT")
        stored = {
            (table.name, column): compression
            for table in tables
            for column, compression in mart.query(
                "SELECT column_name, string_agg(DISTINCT compression) FROM"
                f" pragma_storage_info('{table.name}') WHERE segment_type = 'VARCHAR'"
                " GROUP BY 1"
            )
        }
    assert stored[("listens", "listen_id")] == "Uncompressed"
    assert stored[("user_golden", "entity_id")] == "Uncompressed"
