"""Standardisation of many rows without a float64 copy of all of them."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import StandardScaler


class ChunkedStandardScaler(StandardScaler):
    """scikit-learn's StandardScaler, fitted `chunk_size` rows at a time with `partial_fit`.

    The same mean and scale: the blocks' means and variances are merged exactly as `partial_fit`
    merges a stream's (Chan, Golub and LeVeque), in float64. But `fit` on float32 rows makes
    float64 temporaries the size of all of them (376 MB for 60,000 MNIST images, at the full
    run's memory peak, each a fresh allocation paid in page faults), where a block's fit in cache.
    A dense array of at most `chunk_size` rows, sparse input or sample weights: plain `fit`.
    """

    def __init__(self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True,
                 chunk_size: int = 4096):
        super().__init__(copy=copy, with_mean=with_mean, with_std=with_std)
        self.chunk_size = chunk_size

    def fit(self, X, y=None, sample_weight=None):
        if (sample_weight is not None or not isinstance(X, np.ndarray) or X.ndim != 2
                or len(X) <= self.chunk_size):
            return super().fit(X, y, sample_weight)
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {self.chunk_size}")
        self._reset()
        for start in range(0, len(X), self.chunk_size):
            self.partial_fit(X[start:start + self.chunk_size])
        return self
