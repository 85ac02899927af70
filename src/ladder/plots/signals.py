"""Figures of part 6, MNIST-1D: the signals and their templates, every rung with its positions
shuffled and not, the 1-D CNN's kernels, and MNIST's spread beside MNIST-1D's."""

from __future__ import annotations

import numpy as np

from ..models import SignalCNN
from ._common import CLASS_COLORS, DIVERGING, new_figure, symmetric_limit, torch_module

SHUFFLED = "+shuffle"  # a rung named "cnn+shuffle" is "cnn" with its positions shuffled


def signals_and_templates(ds, templates, per_class: int = 3):
    """For each class, its 12-point template above `per_class` of its training signals.

    `templates` is (t, x) with x of shape (10, 12), as `ladder.data.signals.templates()` gives.
    """
    t, shapes = templates
    fig, axes = new_figure(5, 4, panel=(2.4, 1.5))
    for label in range(10):
        top, bottom = axes[2 * (label // 5), label % 5], axes[2 * (label // 5) + 1, label % 5]
        top.plot(t, shapes[label], color="black", linewidth=2)
        top.set_title(f"class {label}: template", fontsize=9)
        for signal in ds.X_train[ds.y_train == label][:per_class]:
            bottom.plot(signal, color=CLASS_COLORS[label], linewidth=1)
        bottom.set_title(f"{per_class} of its signals", fontsize=9)
        for ax in (top, bottom):
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"{ds.name}: ten 12-point templates, and signals of {ds.X_train.shape[1]} points made "
                 "from them (padded, stretched, moved, sheared, noised)")
    return fig


def shuffle_pairs(record) -> list[tuple[str, dict, dict | None]]:
    """(name, its rung record, the record of the same rung on shuffled positions or None) for
    every rung that is not itself a shuffled one, in the file's order."""
    rungs = {r["name"]: r for r in record["rungs"]}
    return [(name, rung, rungs.get(name + SHUFFLED)) for name, rung in rungs.items()
            if not name.endswith(SHUFFLED)]


def shuffled_accuracy_bars(record):
    """Each rung's test accuracy (mean ± std over seeds) on the signals as made, and beside it the
    same rung's on shuffled positions."""
    pairs = shuffle_pairs(record)
    fig, axes = new_figure(panel=(1.2 * len(pairs) + 2.5, 3.6))
    ax = axes[0, 0]
    x, width = np.arange(len(pairs)), 0.38
    for offset, which, color, label in ((-width / 2, 1, "#1f77b4", "positions as made"),
                                        (width / 2, 2, "#ff7f0e", "positions shuffled")):
        found = [(i, pair[which]["metrics"]["test_accuracy"]) for i, pair in enumerate(pairs)
                 if pair[which] is not None and "test_accuracy" in pair[which]["metrics"]]
        if not found:
            continue
        where = np.array([i for i, _ in found]) + offset
        means = [m["mean"] for _, m in found]
        ax.bar(where, means, width, yerr=[m.get("std", 0.0) for _, m in found], color=color,
               label=label, capsize=3)
        for xi, mean in zip(where, means):
            ax.text(xi, mean + 0.02, f"{mean:.2f}", ha="center", fontsize=8)
    ax.axhline(0.1, color="grey", linestyle=":", linewidth=1, label="chance (10 classes)")
    ax.set_xticks(x, [name for name, _, _ in pairs], fontsize=9)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Shuffle the 40 positions: only the CNN loses, because only it used them")
    return fig


def kernel_weights(estimator) -> np.ndarray:
    """The first convolution's kernels of a fitted SignalCNN rung, (channels, kernel size)."""
    module, _ = torch_module(estimator, SignalCNN)
    return module.conv1.weight.detach().float().cpu().numpy()[:, 0, :]


def cnn_kernels(estimator, name: str = "cnn"):
    """The 1-D CNN's first-layer kernels: each a 5-point pattern it slides along every signal."""
    kernels = kernel_weights(estimator)
    limit = symmetric_limit(kernels)
    fig, axes = new_figure(panel=(6.5, 3.4))
    ax = axes[0, 0]
    shown = ax.imshow(kernels, cmap=DIVERGING, vmin=-limit, vmax=limit, aspect="auto",
                      interpolation="nearest")
    ax.set_xlabel("position within the kernel")
    ax.set_ylabel("kernel (output channel)")
    ax.set_xticks(range(kernels.shape[1]))
    fig.colorbar(shown, ax=ax, label="weight")
    ax.set_title(f"'{name}': {len(kernels)} first-layer kernels of {kernels.shape[1]} points, "
                 "each reused at every position", fontsize=10)
    return fig


#: The rungs compared across datasets, by their names in mnist.toml and mnist1d.toml.
SPREAD_RUNGS = ("logreg", "mlp", "cnn")


def spread(record) -> dict[str, float]:
    """Test accuracy of the SPREAD_RUNGS an experiment record has, by rung name."""
    means = {r["name"]: r["metrics"].get("test_accuracy", {}).get("mean") for r in record["rungs"]}
    return {name: means[name] for name in SPREAD_RUNGS if means.get(name) is not None}


def spreads(records):
    """MNIST's spread from logistic regression to the CNN beside MNIST-1D's: the same three
    rungs on each dataset, from one run."""
    fig, axes = new_figure(panel=(7.0, 3.8))
    ax = axes[0, 0]
    for record, color in zip(records, ("#1f77b4", "#d62728", "#2ca02c")):
        scores = spread(record)
        names = [n for n in SPREAD_RUNGS if n in scores]
        ax.plot(names, [scores[n] for n in names], marker="o", color=color, linewidth=2,
                label=f"{record['name']}: {scores[names[-1]] - scores[names[0]]:+.3f} "
                      f"from {names[0]} to {names[-1]}")
        for n in names:
            ax.annotate(f"{scores[n]:.3f}", (n, scores[n]), textcoords="offset points",
                        xytext=(0, 7), ha="center", fontsize=8, color=color)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=9, loc="lower right")
    ax.set_title("The gap grows: the same three rungs on MNIST and on MNIST-1D")
    return fig
