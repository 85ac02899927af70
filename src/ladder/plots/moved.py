"""Figures of part 5: how accuracy falls as the test digits move, and one digit moved step by step."""

from __future__ import annotations

import re

import numpy as np

from ..augment import shifted
from ..features.shapes import as_images
from ._common import class_colors, new_figure, rows

_PROBE = re.compile(r"^(shift|rotate)_(\d+(?:\.\d+)?)_accuracy$")


def probe_curves(rung: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"shift": (pixels, accuracies), "rotate": (degrees, accuracies)} from a rung's record (means over seeds)."""
    curves: dict[str, list] = {"shift": [], "rotate": []}
    for key, summary in rung["metrics"].items():
        match = _PROBE.match(key)
        if match and summary.get("mean") is not None:
            curves[match[1]].append((float(match[2]), summary["mean"]))
    return {kind: tuple(np.array(v) for v in zip(*sorted(points))) for kind, points in curves.items() if points}


def robustness_curves(record: dict):
    """Test accuracy against how far the digits were shifted and how far they were turned, one
    line per rung (mean over seeds); rungs trained with augmentation are drawn dashed."""
    rungs = [r for r in record["rungs"] if probe_curves(r)]
    if not rungs:
        raise ValueError("no rung of this record was scored on moved digits (no probes)")
    fig, axes = new_figure(2, panel=(4.6, 3.6))
    colors = {}
    for rung in rungs:
        base = rung["name"].split("+")[0]
        colors.setdefault(base, class_colors(len(colors) + 1)[-1])
        style = "--" if rung.get("augmented") else "-"
        for ax, (kind, (x, y)) in zip(axes[0], sorted(probe_curves(rung).items(), reverse=True)):
            ax.plot(x, y, style, marker="o", ms=3, color=colors[base], label=rung["name"])
    axes[0, 0].set(xlabel="shift to the right (pixels)", ylabel="test accuracy", ylim=(0, 1.02),
                   title="Shifted digits")
    axes[0, 0].xaxis.get_major_locator().set_params(integer=True)
    axes[0, 1].set(xlabel="rotation (degrees)", ylim=(0, 1.02), title="Rotated digits")
    for ax in axes[0]:
        ax.grid(alpha=0.3)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=6, fontsize=8)
    return fig


def moved_digit(models: dict, ds, shifts=(0, 1, 2, 3, 4), index: int | None = None):
    """One test digit shifted 0, 1, … pixels (columns), and under each what every model says it is
    (rows): a model that reads templates changes its mind as the ink moves.

    By default the digit is the first of the test split that the first model reads right where it
    stands and wrong 2 pixels further right, the case the figure is about.
    """
    if index is None:
        index = _telling_digit(next(iter(models.values())), ds)
    image = as_images(ds.X_test[index:index + 1])
    moved = np.concatenate([shifted(image, s) for s in shifts])
    predictions = {name: model.predict(rows(moved)) for name, model in models.items()}
    fig, axes = new_figure(len(shifts), panel=(1.6, 1.7 + 0.3 * len(models)))
    for column, (ax, picture, s) in enumerate(zip(axes[0], moved, shifts)):
        ax.imshow(picture, cmap="gray_r", interpolation="nearest")
        ax.set(xticks=[], yticks=[])
        ax.set_title(f"{s} px", fontsize=9)
        said = [f"{name}: {predictions[name][column]}" for name in models]
        wrong = [predictions[name][column] != ds.y_test[index] for name in models]
        ax.set_xlabel("\n".join(f"{'✗ ' if w else ''}{text}" for text, w in zip(said, wrong)), fontsize=8)
    # "Test digit 2 (a 1)" read as the digit two: say which image, then which digit it shows.
    fig.suptitle(f"Test image #{index}, a handwritten {ds.y_test[index]}, shifted to the right: "
                 f"what each model says", fontsize=10)
    return fig


def _telling_digit(model, ds, limit: int = 500) -> int:
    """The first test digit `model` reads right unmoved and wrong shifted 2 pixels (else 0)."""
    images, labels = as_images(ds.X_test[:limit]), ds.y_test[:limit]
    right = model.predict(rows(images)) == labels
    wrong_moved = model.predict(rows(shifted(images, 2))) != labels
    found = np.flatnonzero(right & wrong_moved)
    return int(found[0]) if len(found) else 0
