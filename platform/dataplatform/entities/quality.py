"""Quality of entity resolution: precision, recall and F1 of matched pairs against the truth."""

from typing import cast

import numpy as np
import pandas as pd

from dataplatform.entities.clustering import ENTITY_ID


def pair_quality(predicted: pd.MultiIndex, true_pairs: pd.MultiIndex) -> dict[str, float]:
    """Precision, recall and F1 of predicted pairs against true pairs, in either order."""
    predicted_set, true_set = unordered_pairs(predicted), unordered_pairs(true_pairs)
    hits = len(predicted_set & true_set)
    precision = hits / len(predicted_set) if predicted_set else 1.0
    recall = hits / len(true_set) if true_set else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def true_pairs_from_entities(
    ids: pd.Series | np.ndarray, true_entity: pd.Series | np.ndarray
) -> pd.MultiIndex:
    """Every pair of records that belong to the same true entity."""
    frame = pd.DataFrame({"id": np.asarray(ids), "entity": np.asarray(true_entity)})
    frame["position"] = np.arange(len(frame))
    together = frame.merge(frame, on="entity", suffixes=("_left", "_right"))
    together = together[together["position_left"] < together["position_right"]]
    left, right = cast(pd.Series, together["id_left"]), cast(pd.Series, together["id_right"])
    return pd.MultiIndex.from_arrays(
        [left.to_numpy(), right.to_numpy()],
        names=["left_id", "right_id"],
    )


def entity_pairs(entities: pd.DataFrame, id_column: str) -> pd.MultiIndex:
    """Every pair of records put in the same entity (transitive closure of the matches)."""
    return true_pairs_from_entities(
        cast(pd.Series, entities[id_column]), cast(pd.Series, entities[ENTITY_ID])
    )


def pair_key(a: object, b: object) -> tuple[object, object]:
    """A pair in a fixed order (by the ids' text): (a, b) and (b, a) give one key."""
    return (a, b) if str(a) <= str(b) else (b, a)


def unordered_pairs(pairs: pd.MultiIndex) -> set[tuple[object, object]]:
    """The pairs as a set of `pair_key`s: each pair once, whatever its order."""
    return {pair_key(a, b) for a, b in pairs}
