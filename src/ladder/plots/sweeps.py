"""Sweeps: each point of a swept rung against its value, mean ± std over seeds as error bars."""

from __future__ import annotations

import numpy as np

from ..metrics import headline, label
from ._common import new_figure


def _families(record) -> dict[str, list[dict]]:
    """The swept rungs by the rung they were expanded from ("mlp-width-2" → "mlp-width"), in order."""
    families: dict[str, list[dict]] = {}
    for rung in record["rungs"]:
        if rung.get("sweep") and rung.get("status", "ok") == "ok":  # a failed point has no mean
            families.setdefault(rung["name"].rsplit("-", len(rung["sweep"]))[0], []).append(rung)
    return families


def sweep_errorbars(record):
    """One panel per swept rung: train and test score of every sweep point, mean ± std over seeds.

    The bars are the spread over seeds, so with `--seeds 20` a reader sees which differences
    between two widths are larger than what a different seed alone would make.
    """
    test = headline(record.get("task", "classification"))
    train = test.replace("test_", "train_")
    families = _families(record)
    fig, axes = new_figure(ncols=max(1, len(families)), panel=(4.4, 3.4))
    for ax, (name, rungs) in zip(axes[0], families.items()):
        x = np.arange(len(rungs))
        for key, style in ((train, {"fmt": "s--", "alpha": 0.6}), (test, {"fmt": "o-"})):
            summaries = [r["metrics"][key] for r in rungs if key in r["metrics"]]
            if len(summaries) == len(rungs):
                ax.errorbar(x, [s["mean"] for s in summaries], yerr=[s["std"] or 0 for s in summaries],
                            capsize=4, label=label(key), **style)
        n_seeds = len(rungs[0]["metrics"][test]["values"])
        ax.set_xticks(x, [r["name"][len(name) + 1:] for r in rungs])
        ax.set(xlabel=", ".join(rungs[0]["sweep"]), ylabel="accuracy" if "accuracy" in test else "R²")
        ax.set_title(f"{name}: mean ± std over {n_seeds} seed{'s' * (n_seeds > 1)}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig
