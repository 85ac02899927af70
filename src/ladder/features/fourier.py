"""The Fourier-magnitude φ: how much of each frequency a 1-D signal holds, wherever its pattern sits."""

from __future__ import annotations

import numpy as np


def fourier_magnitudes(X) -> np.ndarray:
    """|DFT| of each row of X (n, points): `points // 2 + 1` magnitudes, frequency 0 first (float32).

    Rolling a signal round (a circular shift) multiplies its k-th Fourier coefficient by
    e^(−2πik·shift/points), a change of phase only: the magnitudes stay exactly as they were. A
    linear model on them cannot care where a pattern sits; it also cannot see how the pieces of a
    pattern are arranged, which is all the phases know.
    """
    X = np.asarray(X, dtype=np.float64)
    return np.abs(np.fft.rfft(X, axis=1)).astype(np.float32)


def frequency_names(transformer, input_features) -> list[str]:
    """`frequency_0`, `frequency_1`, …: the names of the magnitudes, for get_feature_names_out."""
    return [f"frequency_{k}" for k in range(transformer.n_features_in_ // 2 + 1)]
