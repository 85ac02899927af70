"""What every figure shares: one look (panel size, dpi, class colours) and a way into fitted models.

Figures are built with `matplotlib.figure.Figure` directly, not pyplot: no global state, no
window, safe to call from any thread. The caller decides where a figure is saved.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from ..metrics import final_step, label

DPI = 110
PANEL = (3.2, 3.0)  # inches per panel: four side by side still read on a laptop, two on a phone
MAX_WIDTH = 13.0  # inches; wider grids shrink their panels instead
#: Class colours: blue and red first so a two-class toy reads as "this side, that side".
CLASS_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
DIVERGING = "RdBu_r"  # weights: red positive, blue negative, white zero


def new_figure(ncols: int = 1, nrows: int = 1, panel: tuple[float, float] = PANEL, **subplot_kw):
    """A constrained-layout Figure with an (nrows, ncols) array of axes, panels `panel` inches each."""
    scale = min(1.0, MAX_WIDTH / (panel[0] * ncols))
    fig = Figure(figsize=(panel[0] * ncols * scale, panel[1] * nrows * scale), dpi=DPI,
                 layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, subplot_kw=subplot_kw or None)
    return fig, axes


def blank_figure(width: float, height: float) -> Figure:
    """An empty constrained-layout Figure (for subfigures), capped at MAX_WIDTH inches wide."""
    scale = min(1.0, MAX_WIDTH / width)
    return Figure(figsize=(width * scale, height * scale), dpi=DPI, layout="constrained")


def class_colors(n: int) -> list[str]:
    """n class colours (cycling when n exceeds the palette)."""
    return [CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(n)]


def binary_cmap() -> LinearSegmentedColormap:
    """Class 0's colour → white → class 1's colour, for a probability surface."""
    return LinearSegmentedColormap.from_list("ladder_binary", [CLASS_COLORS[0], "#ffffff", CLASS_COLORS[1]])


def symmetric_limit(values) -> float:
    """max |value|, so a diverging colour map puts white exactly at 0 (never 0 itself)."""
    return float(np.max(np.abs(values))) or 1.0


def fmt_metric(key: str, value: float) -> str:
    """A metric the way a figure's title says it: "test acc 0.992", "test R² 0.974"."""
    return f"{label(key)} {value:.3f}"


def image_grid(fig, images, ncols: int, titles=None, cmap="gray_r", vmin=None, vmax=None,
               fontsize=9):
    """Draw images one per panel on `fig` (a Figure or SubFigure); returns the axes used.

    `images` is (n, H, W). Unused trailing panels are removed.
    """
    n = len(images)
    nrows = max(1, math.ceil(n / ncols))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        if i >= n:
            ax.remove()
            continue
        ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[i], fontsize=fontsize)
    return axes[:n]


def rows(X) -> np.ndarray:
    """Images (n, H, W) as rows (n, H·W), the way every rung is fed; tabular X passes through."""
    X = np.asarray(X)
    return X.reshape(len(X), -1) if X.ndim > 2 else X


# -- a way into fitted estimators ---------------------------------------------------------------
def torch_module(estimator, kind: type | None = None):
    """The fitted nn.Module of a Torch rung (optionally checked to be a `kind`), and its estimator."""
    final = final_step(estimator)
    module = getattr(final, "module_", None)
    if module is None:
        raise ValueError(f"{type(final).__name__} is not a fitted PyTorch rung (no module_)")
    if kind is not None and not isinstance(module, kind):
        raise ValueError(f"this figure needs a {kind.__name__}; the rung's module is "
                         f"{type(module).__name__}")
    return module, final


def torch_inputs(estimator, X) -> torch.Tensor:
    """X as the module sees it: through any φ steps, then the Torch estimator's own scaling."""
    steps = getattr(estimator, "steps", None)
    if steps and len(steps) > 1:
        X = estimator[:-1].transform(X)
    final = final_step(estimator)
    return final._transform(final._as_input(np.asarray(X)))
