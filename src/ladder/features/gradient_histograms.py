"""HOG, histograms of oriented gradients: scikit-image's descriptor, vectorised over a stack of images."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .images import ImageFeatures, central_differences, chunks

def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if np.isscalar(value) else tuple(int(v) for v in value)


def hog_descriptors(images, orientations: int = 9, pixels_per_cell=(8, 8), cells_per_block=(3, 3),
                    eps: float = 1e-5) -> np.ndarray:
    """skimage.feature.hog(image, …, block_norm="L2-Hys") for every image of a stack (n, H, W) at once.

    Same steps, same numbers (to the last bit in the histograms, 1e-16 after normalisation):
    1. gradients by central differences [-1, 0, 1], zero on the image border;
    2. each pixel votes its gradient magnitude into one of `orientations` unsigned-angle bins
       (0°–180°, no interpolation) of its cell; a cell's histogram is the mean vote per pixel,
       summed in float32 in row-major order as scikit-image's Cython loop does;
    3. every block of cells × cells is L2-normalised, clipped at 0.2 and renormalised (L2-Hys);
    4. blocks flattened in the order (block row, block column, cell row, cell column, bin).
    Pixels beyond the last whole cell are ignored, as in scikit-image.
    """
    images = np.asarray(images)
    # scikit-image's float type: float32 stays float32, anything else becomes float64.
    float_type = np.float32 if images.dtype in (np.float16, np.float32) else np.float64
    grid = _block_grid(images.shape[1:], pixels_per_cell, cells_per_block)
    c_row, c_col = _pair(pixels_per_cell)
    out = np.empty((len(images), math.prod(grid) * orientations), float_type)
    for rows in chunks(len(images)):
        image = images[rows].astype(float_type, copy=False)
        hist = _cell_histograms(image, orientations, c_row, c_col)
        out[rows] = _normalise_blocks(hist, *grid[2:], eps).reshape(len(hist), -1)
    return out


def _block_grid(image_shape, pixels_per_cell, cells_per_block) -> tuple[int, int, int, int]:
    """(blocks down, blocks across, cells per block down, across), or a ValueError if none fits."""
    (height, width), (c_row, c_col) = image_shape, _pair(pixels_per_cell)
    b_row, b_col = _pair(cells_per_block)
    n_blocks_row, n_blocks_col = height // c_row - b_row + 1, width // c_col - b_col + 1
    if min(c_row, c_col, b_row, b_col) < 1 or n_blocks_row < 1 or n_blocks_col < 1:
        raise ValueError(f"{height}×{width} images hold no block of {b_row}×{b_col} cells of "
                         f"{c_row}×{c_col} pixels; use smaller pixels_per_cell or cells_per_block")
    return n_blocks_row, n_blocks_col, b_row, b_col


def _cell_histograms(image: np.ndarray, orientations: int, c_row: int, c_col: int) -> np.ndarray:
    """Per-cell orientation histograms (n, cells down, cells across, orientations), float64."""
    n, height, width = image.shape
    n_cells_row, n_cells_col = height // c_row, width // c_col
    n_cells = n * n_cells_row * n_cells_col
    g_row, g_col = central_differences(image)

    def by_position(g):
        """(pixels per cell, cells): row k holds the k-th pixel (row-major) of every cell."""
        g = g[:, :n_cells_row * c_row, :n_cells_col * c_col].astype(np.float64, copy=False)
        g = g.reshape(n, n_cells_row, c_row, n_cells_col, c_col).transpose(2, 4, 0, 1, 3)
        return g.reshape(-1)

    g_row, g_col = by_position(g_row), by_position(g_col)
    # Only pixels with a gradient vote (about a quarter of a digit's), listed position by position.
    voting = np.flatnonzero((g_row != 0) | (g_col != 0))
    g_row, g_col = g_row[voting], g_col[voting]
    magnitude = np.hypot(g_col, g_row)
    # An extra last bin takes the angles that round up to 180°, which scikit-image counts nowhere.
    slots = orientations + 1
    slot = voting % n_cells * slots + _orientation_bins(g_row, g_col, orientations)
    # scikit-image sums a cell's votes in a float32 running total, pixel by pixel in row-major
    # order. Adding the k-th pixel of every cell at once, for k = 0, 1, …, does the same sums in
    # the same order, so the histograms match it bit for bit.
    hist = np.zeros(n_cells * slots, np.float32)
    starts = np.searchsorted(voting, np.arange(c_row * c_col + 1) * n_cells)
    for start, stop in zip(starts[:-1], starts[1:]):
        where = slot[start:stop]  # distinct: one pixel per cell
        hist[where] = hist[where] + magnitude[start:stop]  # float32 + float64, then to float32
    hist /= np.float32(c_row * c_col)
    return hist.reshape(n, n_cells_row, n_cells_col, slots)[..., :orientations].astype(np.float64)


def _orientation_bins(g_row: np.ndarray, g_col: np.ndarray, orientations: int) -> np.ndarray:
    """Bin of each unsigned gradient angle: i for angles in [i·w, (i+1)·w), w = 180°/orientations.

    Computed as scikit-image does (degrees = rad2deg(arctan2(∂row, ∂col)) % 180) so that angles
    on a bin edge land on the same side; an angle that rounds up to 180° gets bin `orientations`.
    """
    degrees = np.rad2deg(np.arctan2(g_row, g_col))  # in [-180°, 180°]
    # `degrees % 180`, spelled out because numpy's float remainder is several times slower:
    # identical for |degrees| <= 180, including -1e-20 + 180 rounding up to 180.
    degrees[degrees == 180] = 0
    angle = np.where(degrees < 0, degrees + 180, degrees)
    # Dividing by the bin width may round an angle just across an edge; comparing with the edges
    # themselves, as scikit-image does, moves it back. (Twice as fast as np.searchsorted.)
    edges = 180.0 / orientations * np.arange(orientations + 2)
    bins = (angle / edges[1]).astype(np.intp)
    bins -= angle < np.take(edges, bins)
    bins += angle >= np.take(edges, bins + 1)
    return bins


def _normalise_blocks(hist: np.ndarray, b_row: int, b_col: int, eps: float) -> np.ndarray:
    """L2-Hys over every block of b_row × b_col cells: (n, blocks down, across, b_row, b_col, bins)."""
    blocks = sliding_window_view(hist, (b_row, b_col), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
    cell_axes = (3, 4, 5)
    out = blocks / np.sqrt((blocks ** 2).sum(axis=cell_axes, keepdims=True) + eps ** 2)
    out = np.minimum(out, 0.2)  # no single gradient direction may dominate a block
    return out / np.sqrt((out ** 2).sum(axis=cell_axes, keepdims=True) + eps ** 2)


class HogFeatures(ImageFeatures):
    """HOG descriptors of image rows (`hog_descriptors`), pixels scaled to [0, 1] first."""

    def __init__(self, orientations=9, pixels_per_cell=None, cells_per_block=2, image_shape=None):
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block
        self.image_shape = image_shape

    def fit(self, X, y=None):
        super().fit(X, y)
        if self.orientations < 1:
            raise ValueError(f"orientations must be >= 1, got {self.orientations}")
        # By default a quarter of the image per cell: 7 pixels on MNIST's 28, 2 on the 8×8 digits.
        self.cell_size_ = self.pixels_per_cell or max(1, min(self.image_size_) // 4)
        _block_grid(self.image_size_, self.cell_size_, self.cells_per_block)
        return self

    def _features(self, images):
        return hog_descriptors(images, self.orientations, self.cell_size_, self.cells_per_block)

    def _feature_names(self):
        grid = _block_grid(self.image_size_, self.cell_size_, self.cells_per_block)
        return [f"block_{r}_{c}_cell_{i}_{j}_bin_{o}" for r, c, i, j in np.ndindex(*grid)
                for o in range(self.orientations)]
