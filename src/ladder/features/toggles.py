"""The playground's φ, its toggles: the input features a learner ticks, computed from a point's x1 and x2.

One function computes them for the page (`ladder play`) and for `ladder run` (the feature map
`{ kind = "playground", inputs = [...] }`), so an exported set-up trains on the same numbers.
"""

from __future__ import annotations

import numpy as np

#: The toggles, in the page's order: x1, x2, x1², x2², x1·x2, sin x1, sin x2.
INPUTS = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")


def phi(X: np.ndarray, inputs: list[str]) -> np.ndarray:
    """The chosen input features of points X (n, 2), as float32 columns in the order given."""
    x1, x2 = X[:, 0], X[:, 1]
    columns = {"x1": x1, "x2": x2, "x1sq": x1 ** 2, "x2sq": x2 ** 2, "x1x2": x1 * x2,
               "sinx1": np.sin(x1), "sinx2": np.sin(x2)}
    return np.column_stack([columns[f] for f in inputs]).astype(np.float32)


def check_inputs(inputs) -> list[str]:
    """`inputs` as a non-empty list of toggle names, each once, in the page's order; ValueError if not."""
    if not isinstance(inputs, list) or not inputs or any(v not in INPUTS for v in inputs):
        raise ValueError(f"inputs must be a non-empty list drawn from {', '.join(INPUTS)}, got {inputs!r}")
    return [f for f in INPUTS if f in inputs]
