"""The playground's φ: the input features a learner ticks, computed from the points' x1 and x2."""

from __future__ import annotations

import numpy as np


def phi(X: np.ndarray, features: list[str]) -> np.ndarray:
    """The chosen input features (the course's φ) of points X (n, 2), as columns."""
    x1, x2 = X[:, 0], X[:, 1]
    columns = {"x1": x1, "x2": x2, "x1sq": x1 ** 2, "x2sq": x2 ** 2, "x1x2": x1 * x2,
               "sinx1": np.sin(x1), "sinx2": np.sin(x2)}
    return np.column_stack([columns[f] for f in features]).astype(np.float32)
