"""Image shapes: how rows of flattened pixels fold back into (height, width) images."""

from __future__ import annotations

import math

import numpy as np


def image_size(n_pixels: int, image_shape=None) -> tuple[int, int]:
    """(height, width) of images flattened into rows of `n_pixels`: square unless `image_shape` says."""
    if image_shape is not None:
        height, width = (int(s) for s in image_shape)
    else:
        height = width = math.isqrt(n_pixels)
    if height * width != n_pixels:
        hint = f"image_shape {list(image_shape)}" if image_shape is not None else "a square image"
        raise ValueError(f"rows of {n_pixels} pixels are not {hint}; set image_shape = [height, width]")
    return height, width


def as_images(X, image_shape=None) -> np.ndarray:
    """A stack of images (n, height, width): rows (n, height·width) are unflattened, stacks pass."""
    X = np.asarray(X)
    if X.ndim == 3:
        return X
    return X.reshape(len(X), *image_size(X.shape[1], image_shape))


def as_float32(X) -> np.ndarray:
    """X as float32: pixels arrive as uint8, which scikit-learn would widen to float64."""
    return np.asarray(X, dtype=np.float32)


def float32_copy(X) -> np.ndarray:
    """A new float32 array of X, never X itself: a step after it may then work in place."""
    return np.array(X, dtype=np.float32, copy=True)
