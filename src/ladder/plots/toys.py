"""Figures of the 2-D and 1-D toys: the data, each rung's decision boundary or fitted curve, and
what an MLP's hidden units respond to."""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.inspection import DecisionBoundaryDisplay

from ..metrics import count_features
from ..models import MLP
from ._common import (PANEL, binary_cmap, class_colors, fmt_metric, new_figure, rows, torch_inputs,
                      torch_module)

GRID = 200  # points per side of a decision-boundary or activation grid


def true_function(ds):
    """The noise-free function a regression toy was drawn from, or None when it is not known."""
    if ds.name == "sine" and "frequency" in ds.params:
        return lambda x: np.sin(ds.params["frequency"] * x)
    if ds.name == "line" and "slope" in ds.params:
        return lambda x: ds.params["slope"] * x
    return None


def _scatter_classes(ax, X, y, marker="o", size=14, **kw):
    """One scatter call for all points, coloured by class (no per-point loop)."""
    classes = np.unique(y)
    colors = np.array(class_colors(len(classes)))
    ax.scatter(X[:, 0], X[:, 1], c=colors[np.searchsorted(classes, y)], s=size, marker=marker,
               edgecolors="k", linewidths=0.3, **kw)


def _class_legend(ax, classes, with_splits=True):
    handles = [ax.scatter([], [], color=c, s=20, label=f"class {k}")
               for k, c in zip(classes, class_colors(len(classes)))]
    if with_splits:
        handles += [ax.scatter([], [], color="grey", marker="o", s=20, label="train"),
                    ax.scatter([], [], color="grey", marker="^", s=20, edgecolors="k", label="test")]
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)


def dataset(ds):
    """The toy's data: points coloured by class (train ○, test △), or for regression the scatter
    with the true function dashed when it is known (sine, line)."""
    fig, axes = new_figure(panel=(4.8, 3.6))
    ax = axes[0, 0]
    if ds.task == "classification":
        if ds.X_train.ndim != 2 or ds.X_train.shape[1] != 2:
            raise ValueError(f"dataset() draws 2-D toys; {ds.name} has inputs of shape {ds.X_train.shape[1:]}")
        _scatter_classes(ax, ds.X_train, ds.y_train, marker="o", size=12, alpha=0.7)
        _scatter_classes(ax, ds.X_test, ds.y_test, marker="^", size=22)
        _class_legend(ax, np.unique(ds.y_train))
        ax.set(xlabel="x₁", ylabel="x₂", aspect="equal")
    else:
        x_train, x_test = ds.X_train[:, 0], ds.X_test[:, 0]
        ax.scatter(x_train, ds.y_train, s=12, color=class_colors(1)[0], alpha=0.6, label="train")
        ax.scatter(x_test, ds.y_test, s=20, marker="^", color="#ff7f0e", edgecolors="k",
                   linewidths=0.3, label="test")
        truth = true_function(ds)
        if truth is not None:
            x = np.linspace(min(x_train.min(), x_test.min()), max(x_train.max(), x_test.max()), 300)
            ax.plot(x, truth(x), "k--", lw=1.5, label="true function")
        ax.legend(fontsize=8)
        ax.set(xlabel="x", ylabel="y")
    ax.set_title(f"{ds.name}: {len(ds.X_train)} train, {len(ds.X_test)} test")
    return fig


def _test_accuracy(estimator, ds):
    return float(np.mean(estimator.predict(ds.X_test) == ds.y_test))


def decision_boundaries(models: dict, ds, metrics: dict | None = None, ncols: int = 4):
    """One panel per classification rung, side by side: its decision regions over the plane with
    the test points on top, and "test acc 0.992 · 5 features" in the title.

    `metrics` maps rung name → (test accuracy, number of features); when a rung is missing from it
    both are measured here on the test split.
    """
    metrics = metrics or {}
    ncols = min(ncols, len(models))
    nrows = math.ceil(len(models) / ncols)
    fig, axes = new_figure(ncols, nrows)
    classes = np.unique(ds.y_train)
    X_all = np.vstack([ds.X_train, ds.X_test])
    for ax, (name, est) in zip(axes.ravel(), models.items()):
        accuracy, n_features = metrics.get(name) or (_test_accuracy(est, ds),
                                                     count_features(est, rows(ds.X_test).shape[1]))
        if len(classes) == 2:
            DecisionBoundaryDisplay.from_estimator(
                est, X_all, grid_resolution=GRID, response_method="predict_proba", ax=ax,
                cmap=binary_cmap(), levels=np.linspace(0, 1, 11), vmin=0, vmax=1, alpha=0.8, eps=0.3)
        else:
            DecisionBoundaryDisplay.from_estimator(
                est, X_all, grid_resolution=GRID, response_method="predict", ax=ax,
                multiclass_colors=class_colors(len(classes)), alpha=0.45, eps=0.3)
        _scatter_classes(ax, ds.X_test, ds.y_test, size=10)
        ax.set_title(f"{name}\n{fmt_metric('test_accuracy', accuracy)} · {n_features} features",
                     fontsize=10)
        ax.set(xlabel="x₁", ylabel="x₂", aspect="equal")
    for ax in axes.ravel()[len(models):]:
        ax.remove()
    return fig


def regression_fits(models: dict, ds, r2: dict | None = None):
    """Every regression rung's fitted curve over the data, its test R² in the legend.

    `r2` maps rung name → test R²; a rung missing from it is scored here on the test split.
    """
    r2 = r2 or {}
    fig, axes = new_figure(panel=(6.4, 4.6))
    ax = axes[0, 0]
    x_data = np.concatenate([ds.X_train[:, 0], ds.X_test[:, 0]])
    ax.scatter(ds.X_train[:, 0], ds.y_train, s=10, color="#999999", alpha=0.6, label="train")
    ax.scatter(ds.X_test[:, 0], ds.y_test, s=16, marker="^", color="#555555", label="test")
    x = np.linspace(x_data.min(), x_data.max(), 400)
    truth = true_function(ds)
    if truth is not None:
        ax.plot(x, truth(x), "k--", lw=1.2, label="true function")
    for color, (name, est) in zip(class_colors(len(models)), models.items()):
        score = r2[name] if name in r2 else float(est.score(ds.X_test, ds.y_test))
        ax.plot(x, est.predict(x[:, None]), color=color, lw=2, label=f"{name} (R² = {score:.3f})")
    ax.set(xlabel="x", ylabel="y", title=f"{ds.name}: fitted curves")
    fig.legend(fontsize=8, loc="outside lower center", ncols=3)  # below the axes: never over the data
    return fig


def hidden_units(estimator, ds, layers=(0, 1), units=4):
    """What an MLP's hidden units compute: each unit's activation as a filled contour over the input
    plane, one row per hidden layer (`layers`, 0-based), with the data points faint on top.

    `units` is how many units per layer (the ones that vary most over the plane, since a dead ReLU
    is a blank panel) or a sequence of unit indices. Works for a Pipeline ending in the MLP: the
    grid goes through the φ steps first.
    """
    module, _ = torch_module(estimator, MLP)
    X_all = np.vstack([ds.X_train, ds.X_test])
    if X_all.shape[1] != 2:
        raise ValueError("hidden_units() draws over a 2-D input plane")
    pad = 0.3
    (x0, y0), (x1, y1) = X_all.min(0) - pad, X_all.max(0) + pad
    gx, gy = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    module.eval()
    with torch.no_grad():
        outputs = module.hidden_activations(torch_inputs(estimator, grid))
    layers = [layer for layer in ([layers] if isinstance(layers, int) else layers) if layer < len(outputs)]
    if not layers:
        raise ValueError(f"this MLP has {len(outputs)} hidden layer(s); layers are counted from 0")
    acts = {layer: outputs[layer].float().cpu().numpy() for layer in layers}
    chosen = {layer: np.sort(np.argsort(a.std(0))[::-1][:units]) if isinstance(units, int) else np.asarray(units)
              for layer, a in acts.items()}
    ncols = max(len(u) for u in chosen.values())
    fig, axes = new_figure(ncols, len(layers), panel=(PANEL[0] * 0.85, PANEL[1] * 0.85))
    for row, layer in enumerate(layers):
        for col in range(ncols):
            ax = axes[row, col]
            if col >= len(chosen[layer]):
                ax.remove()
                continue
            unit = int(chosen[layer][col])
            ax.contourf(gx, gy, acts[layer][:, unit].reshape(gx.shape), levels=20, cmap="viridis")
            ax.scatter(ds.X_train[:, 0], ds.X_train[:, 1], c="white", s=2, alpha=0.35)
            ax.set_title(f"layer {layer + 1} · unit {unit}", fontsize=10)
            ax.set(xticks=[], yticks=[], aspect="equal")
    fig.suptitle("Hidden-unit activations over the input plane")
    return fig
