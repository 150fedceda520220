"""Ground truth for entity resolution: which user accounts belong to the same real person."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from dataplatform.demo_api.config import DemoApiConfig
from dataplatform.demo_api.users import root_user_ids


def true_entity_ids(config: DemoApiConfig, user_ids: ArrayLike) -> np.ndarray:
    """The root (first) user id of the person behind each user id; a root maps to itself."""
    return root_user_ids(config, np.asarray(user_ids, dtype=np.int64))
