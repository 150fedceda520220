"""A realistic written table, shared by the catalog metadata, spool and sink tests."""

from datetime import UTC, date, datetime

import dagster as dg
import pyarrow as pa

from dataplatform.catalog.metadata import WrittenDataset
from dataplatform.catalog.profile import profile_table

LISTENS = dg.AssetKey(["cleaned", "listens"])
RAW_LISTENS = dg.AssetKey(["raw", "listen_history"])
USERS = dg.AssetKey(["cleaned", "users"])
WRITTEN_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def listens_table() -> pa.Table:
    """Four rows, a null in every nullable column, one column of each mapped Arrow type."""
    return pa.table(
        {
            "listen_id": pa.array([10, 11, 12, 13], pa.int64()),
            "user_id": pa.array(["u1", "u2", None, "u1"], pa.string()),
            "ms_played": pa.array([1500, None, 250, 90_000], pa.int32()),
            "score": pa.array([0.5, -1.25, None, 3.0], pa.float64()),
            "played_at": pa.array(
                [
                    datetime(2026, 1, 1, 8, 0, tzinfo=UTC),
                    None,
                    datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC),
                    datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC),
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "day": pa.array([date(2026, 1, 1)] * 3 + [None], pa.date32()),
            "skipped": pa.array([False, True, None, False], pa.bool_()),
        },
        schema=pa.schema(
            [
                pa.field("listen_id", pa.int64(), nullable=False),
                pa.field("user_id", pa.string()),
                pa.field("ms_played", pa.int32()),
                pa.field("score", pa.float64()),
                pa.field("played_at", pa.timestamp("us", tz="UTC")),
                pa.field("day", pa.date32()),
                pa.field("skipped", pa.bool_()),
            ]
        ),
    )


def written_listens(
    key: dg.AssetKey = LISTENS, run_id: str = "run-0001", table: pa.Table | None = None
) -> WrittenDataset:
    """One write of `key`, with owners, tags, two upstream tables and column lineage."""
    table = listens_table() if table is None else table
    return WrittenDataset(
        key=key,
        schema=table.schema,
        profile=profile_table(table),
        uri=f"file:///data/{'/'.join(key.path)}/2026-01-01.parquet",
        run_id=run_id,
        written_at=WRITTEN_AT,
        partition="2026-01-01",
        description="Listening events, one row per play.",
        group="cleaned",
        code_version="v7",
        owners=("ana@example.com", "team:data-eng"),
        tags={"tier": "gold", "pii": ""},
        upstream=(RAW_LISTENS, USERS),
        column_lineage=dg.TableColumnLineage(
            deps_by_column={
                "user_id": [
                    dg.TableColumnDep(asset_key=RAW_LISTENS, column_name="user"),
                    dg.TableColumnDep(asset_key=USERS, column_name="user_id"),
                ],
                "ms_played": [dg.TableColumnDep(asset_key=RAW_LISTENS, column_name="ms")],
            }
        ),
    )
