"""Quality on RLdata10000 (German people, 1,000 noisy copies), unsupervised, with its truth.

`benchmarks.RLDATA` measured F1 0.9801 over the pairs inside its clusters (precision
0.9734, recall 0.9870; `python -m bench.bench_entity_benchmarks`), the issue's target being
0.98. A copy mostly has one error, in a name or a birth date part, so among matches a name
that agrees means a date part that does not: the spec declares its first names and birth
date parts dependent, so the model fits their m per combination of levels (0.9694 with
independent comparisons, 0.9776 with dependent ones). The names' typo level is weighed by
the rarer value's frequency, and a cluster holding a pair scored under the review band is
rebuilt by average linkage (0.9776 -> 0.9801; each alone: 0.9658 and 0.9796). The margin
over the target is one pair: a change to the model shows here first.
"""

from dataplatform.entities.benchmarks import RLDATA, TRUE_ENTITY, rldata10000
from dataplatform.entities.quality import entity_pairs, pair_quality, true_pairs_from_entities
from dataplatform.entities.resolution import resolve

TARGET_F1 = 0.98


def test_rldata10000_loads_every_record_with_its_true_entity() -> None:
    records, truth = rldata10000()
    assert len(records) == len(truth) == 10_000
    assert records["rec_id"].is_unique
    assert truth.name == TRUE_ENTITY
    assert truth.nunique() == 9_000  # 10% of the records are copies
    assert records["fname_c2"].isna().mean() > 0.9  # "NA" is read as missing


def test_unsupervised_resolution_of_rldata10000_reaches_the_target_f1() -> None:
    records, truth = rldata10000()
    resolution = resolve(RLDATA, records)
    true_pairs = true_pairs_from_entities(records["rec_id"].to_numpy(), truth.to_numpy())
    quality = pair_quality(entity_pairs(resolution.entities, "rec_id"), true_pairs)
    print("RLdata10000 entities: " + ", ".join(f"{k} {v:.4f}" for k, v in quality.items()))
    assert quality["f1"] >= TARGET_F1
    assert not resolution.warnings
