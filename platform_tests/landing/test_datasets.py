"""Partition keys of landed files: readable, valid for Dagster, one per content."""

import dagster as dg
import pytest

from dataplatform.landing.datasets import REVIEWS, partition_key

SHA = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Fresh Reviews é.csv", "Fresh_Reviews_é.csv"),
        ("Cafe\u0301 \u2013 menu.xlsx", "Café_menu.xlsx"),  # decomposed é: one form
        ("日本語のレビュー.csv", "日本語のレビュー.csv"),
        ("ﬁnal...csv", "final.csv"),  # Dagster refuses '...' in a key
        ("???.csv", ".csv"),
        ("", "file"),
    ],
)
def test_partition_keys_keep_letters_of_any_script(name: str, key: str) -> None:
    assert partition_key(name, SHA) == f"{key}-{SHA[:12]}"


def test_partition_keys_are_accepted_by_dagster() -> None:
    keys = [partition_key(name, SHA) for name in ("Ünïcödé résumé.csv", "a...b.tsv")]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(REVIEWS.partitions.name, keys)
        assert instance.get_dynamic_partitions(REVIEWS.partitions.name) == keys
