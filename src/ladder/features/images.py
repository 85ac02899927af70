"""What every image feature map shares: chunked transforms, gradients, and the scikit-learn plumbing."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .shapes import as_images, image_size

#: Images per chunk: the intermediate arrays of a chunk stay in the CPU cache's neighbourhood
#: instead of allocating several copies of all 70,000 images at once.
CHUNK = 1024


def chunks(n: int):
    for start in range(0, n, CHUNK):
        yield slice(start, min(start + CHUNK, n))


def central_differences(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The gradient (∂row, ∂col) of images (n, H, W): ∂row = x[r+1] − x[r−1] down each column,
    ∂col = x[c+1] − x[c−1] along each row, 0 on the image border (HOG's scheme, scikit-image's).

    A sharp black-to-white stroke border gives 1 on the pixel at each side of it.
    """
    g_row = np.empty_like(image)
    g_row[:, [0, -1], :] = 0
    np.subtract(image[:, 2:, :], image[:, :-2, :], out=g_row[:, 1:-1, :])
    g_col = np.empty_like(image)
    g_col[:, :, [0, -1]] = 0
    np.subtract(image[:, :, 2:], image[:, :, :-2], out=g_col[:, :, 1:-1])
    return g_row, g_col


def brightest(X) -> float:
    """The value pixels are divided by to lie in [0, 1]: the brightest pixel (1 for blank images)."""
    top = float(np.max(X)) if np.size(X) else 0.0
    return top if top > 0 else 1.0


def edge_maps(images, image_shape: list[int] | None = None) -> np.ndarray:
    """Gradient magnitude √(∂row² + ∂col²) of each image, shape (n, H, W): the edges that the
    hand-crafted gradient features summarise, after dividing by the brightest pixel given."""
    x = as_images(images, image_shape)
    return np.hypot(*central_differences(x / brightest(x)))


class ImageFeatures(TransformerMixin, BaseEstimator):
    """Shared plumbing of image feature maps: rows of pixels in, a feature table out.

    `fit` learns the image size (`image_size_`) and the brightest pixel (`pixel_max_`: 255 for
    MNIST bytes, 16 for scikit-learn's digits, 1 for images already in [0, 1]); `transform`
    divides by it and hands (n, height, width) images of `pixel_type` to `_features`, a chunk at
    a time.
    """

    pixel_type = np.float64

    def fit(self, X, y=None):
        X = validate_data(self, X)
        self.image_size_ = image_size(X.shape[1], self.image_shape)
        self.pixel_max_ = brightest(X)
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        images = X.reshape(len(X), *self.image_size_)
        top = self.pixel_type(self.pixel_max_)
        # float32 is plenty for the linear model that follows, and halves its fitting time.
        out = np.empty((len(X), len(self._feature_names())), dtype=np.float32)
        for rows in chunks(len(X)):
            out[rows] = self._features(np.divide(images[rows], top, dtype=self.pixel_type))
        return out

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        return np.asarray(self._feature_names(), dtype=object)
