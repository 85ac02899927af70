"""Figures of the image rungs: sample digits, what the linear model and the CNN learned, edge
maps, mistakes and confusion matrices. Every figure adapts to the image size (28×28 MNIST or
8×8 scikit-learn digits)."""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.metrics import confusion_matrix

from ..features.shapes import as_images, image_size
from ..metrics import final_step
from ..models import LinearNet, SimpleCNN
from ._common import (DIVERGING, blank_figure, fmt_metric, image_grid, new_figure, rows,
                      symmetric_limit, torch_inputs, torch_module)


def sample_digits(ds, n: int = 20, ncols: int = 10):
    """The first `n` training digits, each titled with its label."""
    images = as_images(ds.X_train[:n])
    side = 1.15
    fig = blank_figure(side * ncols, side * math.ceil(len(images) / ncols) + 0.4)
    image_grid(fig, images, ncols, titles=[str(label) for label in ds.y_train[:n]], fontsize=10)
    h, w = images.shape[1:]
    fig.suptitle(f"{ds.name}: sample training digits ({h}×{w} pixels)")
    return fig


# -- what the linear model and the CNN learned --------------------------------------------------
def linear_weights(estimator, shape=None):
    """A linear image classifier's weights as (templates (k, H, W), class labels).

    Reads `coef_` (scikit-learn's LogisticRegression) or the LinearNet's `linear.weight` (a
    TorchClassifier with module="linear"); for two classes that is one template, for class 1.
    """
    final = final_step(estimator)
    if hasattr(final, "coef_"):
        weights = np.asarray(final.coef_)
    else:
        module, final = torch_module(estimator, LinearNet)
        weights = module.linear.weight.detach().float().cpu().numpy()
        shape = shape or getattr(final, "image_shape", None)
    classes = final.classes_ if len(weights) > 1 else final.classes_[-1:]
    return weights.reshape(len(weights), *image_size(weights.shape[1], shape)), classes


def _draw_templates(fig, templates, classes):
    limit = symmetric_limit(templates)
    ncols = min(5, len(templates))
    axes = image_grid(fig, templates, ncols, titles=[f"class {c}" for c in classes],
                      cmap=DIVERGING, vmin=-limit, vmax=limit, fontsize=10)
    fig.colorbar(axes[0].images[0], ax=list(axes), shrink=0.8, label="weight")
    return axes


def _draw_filters(fig, filters):
    limit = symmetric_limit(filters)
    ncols = math.ceil(math.sqrt(len(filters)))
    axes = image_grid(fig, filters, ncols, titles=[f"{i}" for i in range(len(filters))],
                      cmap=DIVERGING, vmin=-limit, vmax=limit, fontsize=8)
    fig.colorbar(axes[0].images[0], ax=list(axes), shrink=0.8, label="weight")
    return axes


def linear_templates(estimator, shape=None):
    """The linear model's weight templates, one H×W image per class, on a diverging colour map
    centred at 0 (red: pixels that vote for the class, blue: against)."""
    templates, classes = linear_weights(estimator, shape)
    h, w = templates.shape[1:]
    ncols = min(5, len(templates))
    fig = blank_figure(1.7 * ncols + 1.0, 1.75 * math.ceil(len(templates) / ncols) + 0.5)
    _draw_templates(fig, templates, classes)
    fig.suptitle(f"Linear model: one {h}×{w} weight template per class")
    return fig


def cnn_filter_weights(estimator) -> np.ndarray:
    """The CNN's first-layer filters as (16, 3, 3)."""
    module, _ = torch_module(estimator, SimpleCNN)
    return module.conv1.weight.detach().float().cpu().numpy()[:, 0]


def cnn_filters(estimator):
    """The CNN's sixteen first-layer 3×3 filters, on a diverging colour map centred at 0."""
    filters = cnn_filter_weights(estimator)
    fig = blank_figure(5.0, 4.8)
    _draw_filters(fig, filters)
    k = filters.shape[1]
    fig.suptitle(f"CNN: {len(filters)} first-layer {k}×{k} filters")
    return fig


def templates_vs_filters(linear_est, cnn_est):
    """The linear model's whole-image class templates beside the CNN's small local filters: one
    global pattern per class against a few local detectors slid over every position."""
    templates, classes = linear_weights(linear_est)
    filters = cnn_filter_weights(cnn_est)
    fig = blank_figure(13.0, 3.9)
    left, right = fig.subfigures(1, 2, width_ratios=[8.5, 4.5])
    _draw_templates(left, templates, classes)
    h, w = templates.shape[1:]
    left.suptitle(f"Linear: {len(templates)} templates of {h}×{w} — one global pattern per class")
    _draw_filters(right, filters)
    k = filters.shape[1]
    right.suptitle(f"CNN: {len(filters)} filters of {k}×{k} — local, shared everywhere")
    return fig


def cnn_activation_maps(estimator, image) -> tuple[np.ndarray, np.ndarray]:
    """The CNN's activation maps for one image (H×W, or a flattened row): after conv1 + ReLU
    (16, H, W), and after pool → conv2 + ReLU (32, H/2, W/2)."""
    module, _ = torch_module(estimator, SimpleCNN)
    x = torch_inputs(estimator, rows(np.asarray(image)[None]))
    module.eval()
    with torch.no_grad():
        first = torch.relu(module.conv1(x))
        second = torch.relu(module.conv2(module.pool(first)))
    return first[0].float().cpu().numpy(), second[0].float().cpu().numpy()


def cnn_activations(estimator, image, label=None):
    """One digit as the CNN sees it: the input, the 16 first-layer maps and the 32 second-layer
    maps (each layer on one shared colour scale, so a quiet map looks quiet)."""
    first, second = cnn_activation_maps(estimator, image)
    image = np.asarray(image)
    image = image if image.ndim == 2 else image.reshape(first.shape[1:])
    ncols = 8
    fig = blank_figure(2.2 + 0.95 * ncols, 0.95 * (len(first) + len(second)) / ncols + 1.2)
    left, right = fig.subfigures(1, 2, width_ratios=[2.2, 0.95 * ncols])
    ax = left.subplots()
    ax.imshow(image, cmap="gray_r", interpolation="nearest")
    ax.set(xticks=[], yticks=[], title="input" if label is None else f"input (label {label})")
    top, bottom = right.subfigures(2, 1, height_ratios=[len(first), len(second)])
    for sub, maps, name in ((top, first, "layer 1: conv1 + ReLU"),
                            (bottom, second, "layer 2: pool → conv2 + ReLU")):
        image_grid(sub, maps, ncols, cmap="magma", vmin=0, vmax=float(maps.max()) or 1.0)
        h, w = maps.shape[1:]
        sub.suptitle(f"{name}: {len(maps)} maps of {h}×{w}", fontsize=10)
    return fig


def gradient_magnitude(images) -> np.ndarray:
    """|∇I| per pixel for a stack of images (n, H, W): a simple edge map, float in pixel units."""
    images = np.asarray(images, dtype=float)
    gy, gx = np.gradient(images, axis=(1, 2))
    return np.hypot(gx, gy)


def edge_maps(images, edge_fn=None, n: int = 5, labels=None):
    """`n` digits (top row) and their edge maps (bottom row). `edge_fn` maps images (n, H, W) to
    edge maps of the same shape; the default is `gradient_magnitude`."""
    images = as_images(images[:n])
    edges = np.asarray((edge_fn or gradient_magnitude)(images)).reshape(images.shape)
    fig, axes = new_figure(len(images), 2, panel=(1.6, 1.7))
    for i, (image, edge) in enumerate(zip(images, edges)):
        axes[0, i].imshow(image, cmap="gray_r", interpolation="nearest")
        axes[1, i].imshow(edge, cmap="magma", interpolation="nearest")
        axes[0, i].set_title("digit" if labels is None else f"digit {labels[i]}", fontsize=9)
        axes[1, i].set_title("edges", fontsize=9)
    for ax in axes.ravel():
        ax.set(xticks=[], yticks=[])
    return fig


# -- mistakes -----------------------------------------------------------------------------------
def misclassified(estimator, ds, n: int = 20, predicted=None, ncols: int = 5):
    """The first `n` test digits the model gets wrong, each titled "true 4 → 9".

    `predicted` (the model's test predictions) can be passed to avoid predicting again.
    """
    y_pred = estimator.predict(rows(ds.X_test)) if predicted is None else np.asarray(predicted)
    wrong = np.flatnonzero(y_pred != ds.y_test)
    shown = wrong[:n]
    if len(shown) == 0:
        fig, axes = new_figure(panel=(4.0, 1.5))
        axes[0, 0].axis("off")
        axes[0, 0].text(0.5, 0.5, f"no mistakes on {len(ds.y_test):,} test digits", ha="center")
        return fig
    ncols = min(ncols, len(shown))
    fig = blank_figure(1.45 * ncols, 1.55 * math.ceil(len(shown) / ncols) + 0.5)
    image_grid(fig, as_images(ds.X_test[shown]), ncols, fontsize=10,
               titles=[f"true {t} → {p}" for t, p in zip(ds.y_test[shown], y_pred[shown])])
    fig.suptitle(f"{len(wrong):,} of {len(ds.y_test):,} test digits misclassified; "
                 f"the first {len(shown)}", fontsize=10)
    return fig


def confusion(models, ds, predictions: dict | None = None, ncols: int = 3, label_from: int = 10):
    """A confusion matrix (counts over the test split) per image rung. `models` is one estimator
    or {rung name: estimator}; `predictions` {rung name: test predictions} skips predicting.

    The colour (log scale) shows every count; numbers are written on the diagonal and on each
    confusion of at least `label_from` digits, the ones worth reading (and a few dozen labels draw
    far faster than a hundred per panel).
    """
    models = models if isinstance(models, dict) else {"model": models}
    predictions = predictions or {}
    ncols = min(ncols, len(models))
    nrows = math.ceil(len(models) / ncols)
    fig, axes = new_figure(ncols, nrows, panel=(4.4, 4.4))
    classes = np.unique(ds.y_test)
    for ax, (name, est) in zip(axes.ravel(), models.items()):
        y_pred = predictions[name] if name in predictions else est.predict(rows(ds.X_test))
        counts = confusion_matrix(ds.y_test, y_pred, labels=classes)
        ax.imshow(np.log1p(counts), cmap="Blues")
        for (i, j), count in np.ndenumerate(counts):
            if i == j or count >= label_from:
                dark = np.log1p(count) > 0.6 * np.log1p(counts.max())
                ax.text(j, i, str(count), ha="center", va="center", fontsize=7,
                        color="white" if dark else "#333333")
        accuracy = float(np.mean(np.asarray(y_pred) == ds.y_test))
        ax.set(xticks=range(len(classes)), yticks=range(len(classes)), xticklabels=classes,
               yticklabels=classes, xlabel="predicted", ylabel="true")
        ax.set_title(f"{name}\n{fmt_metric('test_accuracy', accuracy)}", fontsize=10)
    for ax in axes.ravel()[len(models):]:
        ax.remove()
    return fig
