"""Standardisation of many rows without a float64 copy of all of them."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval


class ChunkedStandardScaler(StandardScaler):
    """scikit-learn's StandardScaler, fitted `chunk_size` rows at a time with `partial_fit`.

    The same mean and scale: the blocks' means and variances are merged exactly as `partial_fit`
    merges a stream's (Chan, Golub and LeVeque), in float64. But `fit` on float32 rows makes
    float64 temporaries the size of all of them (376 MB for 60,000 MNIST images, at the full
    run's memory peak, each a fresh allocation paid in page faults), where a block's temporaries
    fit in cache. A dense array of at most `chunk_size` rows, other input (lists, DataFrames,
    sparse matrices) and sample weights: plain `fit`.
    """

    _parameter_constraints = {**StandardScaler._parameter_constraints,
                              "chunk_size": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True,
                 chunk_size: int = 4096):
        super().__init__(copy=copy, with_mean=with_mean, with_std=with_std)
        self.chunk_size = chunk_size

    def fit(self, X, y=None, sample_weight=None):
        self._validate_params()
        if (sample_weight is not None or not isinstance(X, np.ndarray) or X.ndim != 2
                or len(X) <= self.chunk_size):
            return super().fit(X, y, sample_weight)
        self._reset()
        try:
            for start in range(0, len(X), self.chunk_size):
                self.partial_fit(X[start:start + self.chunk_size])
        except BaseException:  # a bad value in a later block: not fitted on the blocks before it
            for name in [name for name in vars(self) if name.endswith("_") and not name.startswith("_")]:
                delattr(self, name)
            raise
        return self
