"""Labels files: the words people write, one order per pair, clear errors, the latest verdict."""

from pathlib import Path

import pandas as pd
import pytest

from dataplatform.entities.label_files import (
    LabelsFileError,
    empty_labels,
    labels_for_run,
    merge_labels,
    read_labels_file,
    read_labels_files,
    side_by_side,
    write_labels_file,
)
from dataplatform.entities.platform_specs import USERS


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_csv_of_verdicts_in_words_reads_as_one_ordered_row_per_verdict(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "reviewed.csv",
        "left_id,right_id,is_match,score\n"
        "7,3,yes,0.4\n"
        "1,2,Non-Match,0.6\n"
        "4,5,,0.5\n"  # not reviewed: skipped
        "8,9,1,0.5\n"
        "10,11,false,0.5\n",
    )

    labels = read_labels_file(path, labelled_by="file")

    assert labels[["left_id", "right_id", "is_match"]].values.tolist() == [
        ["3", "7", True],
        ["1", "2", False],
        ["8", "9", True],
        ["10", "11", False],
    ]
    assert set(labels["labelled_by"]) == {"file"}
    assert set(labels["source_file"]) == {"reviewed.csv"}
    assert bool(labels["labelled_at"].notna().all())


def test_a_parquet_file_with_boolean_verdicts_and_its_own_times_reads_as_it_is(
    tmp_path: Path,
) -> None:
    path = tmp_path / "labels.parquet"
    pd.DataFrame(
        {
            "left_id": [1, 5],
            "right_id": [2, 4],
            "is_match": [True, False],
            "labelled_at": ["2026-01-02T10:00:00Z", "2026-01-02T11:00:00Z"],
            "labelled_by": ["ana", "ben"],
        }
    ).to_parquet(path)

    labels = read_labels_file(path)

    assert labels[["left_id", "right_id", "is_match", "labelled_by"]].values.tolist() == [
        ["1", "2", True, "ana"],
        ["4", "5", False, "ben"],
    ]
    assert labels["labelled_at"].iloc[1] == pd.Timestamp("2026-01-02T11:00:00Z")


@pytest.mark.parametrize(
    ("text", "row", "message"),
    [
        ("left_id,right_id,is_match\n1,2,yes\n3,4,maybe\n", "line 3", "'maybe'"),
        ("left_id,right_id,is_match\n1,,yes\n", "line 2", "right_id is missing"),
        ("left_id,right_id,is_match\n1,1,no\n", "line 2", "against itself"),
        ("left_id,right_id,is_match,labelled_at\n1,2,no,yesterday\n", "line 2", "'yesterday'"),
        ("left_id,is_match\n1,yes\n", "", "missing column(s) right_id"),
    ],
)
def test_a_bad_row_fails_the_whole_file_naming_the_file_the_row_and_the_value(
    tmp_path: Path, text: str, row: str, message: str
) -> None:
    path = write_csv(tmp_path / "bad.csv", text)

    with pytest.raises(LabelsFileError) as raised:
        read_labels_file(path)

    assert raised.value.file == "bad.csv" and raised.value.row == row
    assert str(raised.value).startswith(f"bad.csv, {row}" if row else "bad.csv:")
    assert message in str(raised.value)


def test_a_file_of_another_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LabelsFileError, match=r"expected a \.csv or \.parquet file"):
        read_labels_file(write_csv(tmp_path / "labels.xlsx", "x"))


def test_the_latest_verdict_on_a_pair_wins_whichever_order_it_was_given_in(
    tmp_path: Path,
) -> None:
    first = write_csv(
        tmp_path / "first.csv",
        "left_id,right_id,is_match,labelled_at\n1,2,yes,2026-01-01\n3,4,yes,2026-01-01\n",
    )
    second = write_csv(
        tmp_path / "second.csv",
        "left_id,right_id,is_match,labelled_at\n2,1,no,2026-01-02\n4,3,no,2025-12-31\n",
    )

    kept = read_labels_files([(first, "2026-01-01")])
    merged = merge_labels(kept, read_labels_file(second))

    assert merged[["left_id", "right_id", "is_match"]].values.tolist() == [
        ["1", "2", False],  # changed by the later verdict
        ["3", "4", True],  # an older verdict does not replace a newer one
    ]
    assert merge_labels(empty_labels()).empty


def test_labels_for_a_run_take_the_records_id_type_and_none_stands_for_no_labels(
    tmp_path: Path,
) -> None:
    labels = read_labels_file(
        write_csv(tmp_path / "l.csv", "left_id,right_id,is_match\n1,2,y\nx,2,n\n")
    )

    for_run = labels_for_run(labels, pd.Series([1, 2, 3]))

    assert for_run is not None
    assert for_run.values.tolist() == [[1, 2, True]]  # 'x' names no integer record
    assert for_run["left_id"].dtype == "int64"
    assert labels_for_run(empty_labels(), pd.Series([1, 2])) is None


def test_labels_written_as_a_file_read_back_the_same(tmp_path: Path) -> None:
    labels = pd.DataFrame({"left_id": [2], "right_id": [1], "is_match": [False]})

    path = write_labels_file(labels, tmp_path / "labels" / "users", "review.csv")

    assert read_labels_file(path)[["left_id", "right_id", "is_match"]].values.tolist() == [
        ["1", "2", False]
    ]
    assert [p.name for p in path.parent.iterdir()] == ["review.csv"]


def test_uncertain_pairs_show_both_records_fields_most_uncertain_first() -> None:
    records = pd.DataFrame(
        {"user_id": [1, 2, 3], "first_name": ["Bob", "Robert", "Rob"], "entity_id": "E1"}
    )
    pairs = pd.DataFrame(
        {"left_id": [1, 2], "right_id": [2, 3], "score": [0.9, 0.55], "first_name": [0.0, 1.0]}
    )

    table = side_by_side(USERS, pairs, records, threshold=0.5)

    assert list(table.columns) == [
        "left_id",
        "right_id",
        "left_first_name",
        "right_first_name",
        "score",
        "first_name",
    ]
    assert table[["left_first_name", "right_first_name", "score"]].values.tolist() == [
        ["Robert", "Rob", 0.55],
        ["Bob", "Robert", 0.9],
    ]
