"""Hand-crafted image features: ink, symmetry, quadrants, gradients, row and column profiles."""

from __future__ import annotations

import numpy as np

from .images import ImageFeatures, central_differences

#: Above this intensity a pixel counts as ink (pixels scaled to [0, 1]).
INK = 0.5
#: Above this gradient magnitude a pixel counts as an edge: half of what the pixels beside a
#: sharp black-to-white stroke border get (central differences span two pixels).
EDGE = 0.5

SUMMARY_FEATURES = (
    "ink_mean", "ink_fraction", "ink_std",
    "symmetry_left_right", "symmetry_top_bottom",
    "quadrant_top_left", "quadrant_top_right", "quadrant_bottom_left", "quadrant_bottom_right",
    "gradient_x", "gradient_y", "gradient_magnitude", "edge_fraction",
    "gradient_x_spread", "gradient_y_spread",
)


def handcrafted_features(x: np.ndarray) -> np.ndarray:
    """The 15 summary features, then H row means and W column means, of images (n, H, W) in [0, 1].

    | #  | name                  | meaning                                                          |
    | -- | --------------------- | ---------------------------------------------------------------- |
    | 0  | ink_mean              | mean intensity: how much ink                                     |
    | 1  | ink_fraction          | share of pixels brighter than 0.5                                |
    | 2  | ink_std               | standard deviation of the intensities                            |
    | 3  | symmetry_left_right   | 1 − Σ|x − x mirrored left↔right| / 2Σx: 1 symmetric, 0 disjoint   |
    | 4  | symmetry_top_bottom   | the same for the top↔bottom mirror                               |
    | 5  | quadrant_top_left     | mean intensity of the top-left quarter                           |
    | 6  | quadrant_top_right    | … top-right (odd sizes leave the middle row or column out)       |
    | 7  | quadrant_bottom_left  | … bottom-left                                                    |
    | 8  | quadrant_bottom_right | … bottom-right                                                   |
    | 9  | gradient_x            | mean |∂col| (change along rows): high for vertical strokes        |
    | 10 | gradient_y            | mean |∂row| (change down columns): high for horizontal strokes    |
    | 11 | gradient_magnitude    | mean √(∂row² + ∂col²): total edge strength (`edge_maps`)         |
    | 12 | edge_fraction         | share of pixels whose gradient magnitude exceeds 0.5             |
    | 13 | gradient_x_spread     | standard deviation of |∂col| over the image                      |
    | 14 | gradient_y_spread     | standard deviation of |∂row| over the image                      |

    These are the course's four kinds of summary (intensity, symmetry, quadrants, gradients).
    Gradients are `central_differences`. An image without ink counts as symmetric (1).
    """
    n, height, width = x.shape
    row_sums, column_sums = x.sum(axis=2), x.sum(axis=1)
    ink = x > INK
    summary = np.column_stack(_intensity(x, ink) + _symmetry(x, row_sums.sum(axis=1))
                              + _quadrants(x) + _gradient_features(x, ink))
    return np.column_stack([summary, row_sums / width, column_sums / height]).astype(np.float64)


def _mean(maps: np.ndarray) -> np.ndarray:
    """Mean over the pixels of each image."""
    return maps.reshape(len(maps), -1).mean(axis=1)


def _intensity(x, ink) -> list:
    return [_mean(x), _mean(ink), x.reshape(len(x), -1).std(axis=1)]


def _symmetry(x, total) -> list:
    """1 − Σ|x − mirror(x)| / 2Σx, left↔right and top↔bottom."""
    # Each mirrored pair of pixels differs by the same amount on both sides: sum over one half.
    half_width, half_height = x.shape[2] // 2, x.shape[1] // 2
    left_right = np.abs(x[:, :, :half_width] - x[:, :, :-half_width - 1:-1]).sum(axis=(1, 2))
    top_bottom = np.abs(x[:, :half_height] - x[:, :-half_height - 1:-1]).sum(axis=(1, 2))
    ink = np.maximum(total, np.finfo(x.dtype).tiny)  # no ink: 0 / tiny = 0, symmetric
    return [1 - left_right / ink, 1 - top_bottom / ink]


def _quadrants(x) -> list:
    """Mean intensity of the four quarters; odd sizes leave the middle row or column out."""
    height, width = x.shape[1:]
    top, bottom = slice(0, height // 2), slice((height + 1) // 2, height)
    left, right = slice(0, width // 2), slice((width + 1) // 2, width)
    return [x[:, rows, columns].mean(axis=(1, 2))
            for rows in (top, bottom) for columns in (left, right)]


def _gradient_features(x, ink) -> list:
    d_row, d_col = central_differences(x)
    magnitude = np.sqrt(d_row * d_row + d_col * d_col)
    d_col, d_row = np.abs(d_col, out=d_col), np.abs(d_row, out=d_row)
    return [_mean(d_col), _mean(d_row), _mean(magnitude), _mean(magnitude > EDGE),
            _spread(d_col), _spread(d_row)]


def _spread(maps: np.ndarray) -> np.ndarray:
    """Standard deviation over the pixels of each image."""
    return maps.reshape(len(maps), -1).std(axis=1)


class HandcraftedFeatures(ImageFeatures):
    """15 summary features, then row and column profile means (`handcrafted_features`)."""

    pixel_type = np.float32  # plenty for means of a few hundred pixels, and half the memory traffic

    def __init__(self, image_shape=None):
        self.image_shape = image_shape

    def _features(self, images):
        return handcrafted_features(images)

    def _feature_names(self):
        height, width = self.image_size_
        return (list(SUMMARY_FEATURES) + [f"row_{r:02d}" for r in range(height)]
                + [f"column_{c:02d}" for c in range(width)])
