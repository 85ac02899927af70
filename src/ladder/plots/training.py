"""Figures read from results records: training curves, final scores, and the full picture of
hand-made features against learned ones."""

from __future__ import annotations

import re

import numpy as np

from ..metrics import headline
from ._common import class_colors, new_figure

LEARNED_KINDS = {"mlp", "cnn", "cnn1d"}
REORDERINGS = {"shuffle"}  # feature maps that only reorder the inputs: no φ a person chose
SHORT_RUN = 12  # epochs: a curve this short is drawn with a dot on every epoch


# -- reading records ----------------------------------------------------------------------------
def _experiments(records) -> list[dict]:
    """A whole results.json, one experiment record, or a list of them → a list of experiment records."""
    if isinstance(records, dict):
        return list(records["experiments"]) if "experiments" in records else [records]
    return list(records)


def _histories(source) -> dict[str, dict]:
    """label → history, from an experiment record, a list of them, or a {name: history} dict.

    A history maps a key ("loss", "test_accuracy", …) to one list per epoch, or (in a record) to
    one such list per seed. Labels are "experiment/rung" when several records are given.
    """
    if isinstance(source, dict) and "rungs" not in source and "experiments" not in source:
        return dict(source)
    experiments = _experiments(source)
    prefix = len(experiments) > 1
    return {(f"{exp['name']}/{rung['name']}" if prefix else rung["name"]): rung["history"]
            for exp in experiments for rung in exp["rungs"] if rung.get("history")}


def mean_curve(values) -> np.ndarray:
    """A per-epoch curve: the list itself, or the mean over seeds of per-seed lists (cut to the shortest)."""
    if len(values) and isinstance(values[0], (list, tuple, np.ndarray)):
        n = min(len(v) for v in values)
        return np.mean([np.asarray(v[:n], dtype=float) for v in values], axis=0)
    return np.asarray(values, dtype=float)


# -- figures ------------------------------------------------------------------------------------
def _plot_curves(ax, histories, key, ylabel, log=False):
    colors = class_colors(len(histories))
    drawn = 0
    for color, (label, history) in zip(colors, histories.items()):
        if history.get(key):
            curve = mean_curve(history[key])
            # a dot on each epoch of a short run: a one-epoch CNN is a single point, no line
            marker = "o" if len(curve) <= SHORT_RUN else None
            ax.plot(np.arange(1, len(curve) + 1), curve, color=color, lw=1.8, marker=marker, ms=4,
                    label=label)
            drawn += 1
    ax.set(xlabel="epoch", ylabel=ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if drawn:
        ax.legend(fontsize=8)
    return drawn


def training_curves(record):
    """Training loss per epoch for every PyTorch rung (mean over seeds), and beside it the test
    metric per epoch when it was recorded. Accepts what `accuracy_per_epoch` accepts."""
    histories = _histories(record)
    if not histories:
        raise ValueError("no rung in this record has a per-epoch history (no PyTorch rung?)")
    metric = next((k for k in ("test_accuracy", "test_r2") if any(h.get(k) for h in histories.values())),
                  None)
    fig, axes = new_figure(2 if metric else 1, panel=(4.6, 3.4))
    _plot_curves(axes[0, 0], histories, "loss", "training loss", log=True)
    axes[0, 0].set_title("training loss")
    if metric:
        label = "test accuracy" if metric == "test_accuracy" else "test R²"
        _plot_curves(axes[0, 1], histories, metric, label)
        axes[0, 1].set_title(f"{label} per epoch")
    if isinstance(record, dict) and "title" in record:
        fig.suptitle(record["title"])
    return fig


def accuracy_per_epoch(records_or_histories):
    """Test accuracy per epoch of every rung that recorded it (linear, MLP, CNN …): from an
    experiment record, a list of records, a results.json dict, or {name: estimator.history_}."""
    histories = {k: h for k, h in _histories(records_or_histories).items() if h.get("test_accuracy")}
    if not histories:
        raise ValueError("no rung recorded test accuracy per epoch")
    fig, axes = new_figure(panel=(5.6, 3.8))
    _plot_curves(axes[0, 0], histories, "test_accuracy", "test accuracy")
    axes[0, 0].set_title("Test accuracy per epoch")
    return fig


def final_accuracy_bars(record):
    """Every rung's final test metric (accuracy, or R² for regression) as a bar, mean ± std over seeds."""
    key = headline(record.get("task", "classification"))
    rungs = [r for r in record["rungs"] if r["metrics"].get(key, {}).get("mean") is not None]
    names = [r["name"] for r in rungs]
    means = np.array([r["metrics"][key]["mean"] for r in rungs])
    stds = np.array([r["metrics"][key]["std"] for r in rungs])
    fig, axes = new_figure(panel=(5.6, 0.9 + 0.45 * len(rungs)))
    ax = axes[0, 0]
    y = np.arange(len(rungs))[::-1]
    ax.barh(y, means, xerr=stds, color=class_colors(len(rungs)), alpha=0.85, height=0.6)
    ax.set_yticks(y, names)
    for yi, m in zip(y, means):
        ax.text(m, yi, f" {m:.3f}", va="center", fontsize=9)
    label = "test accuracy" if key == "test_accuracy" else "test R²"
    upper = max(1.0, float(means.max(initial=0)))
    ax.set(xlabel=label, xlim=(min(0.0, float(means.min(initial=0))), upper * 1.15))
    ax.set_title(record.get("title", record.get("name", "")), fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return fig


def rung_family(rung: dict) -> str:
    """"engineered" or "learned": which side of the full picture a rung stands on.

    The rule: a rung whose record has a `features` block is "engineered" (a person chose φ, even
    when an MLP follows it), unless that block only reorders the inputs (`shuffle`). Otherwise it is "learned" when its model kind is mlp or cnn — read
    from `rung["model"]["kind"]` when the record carries it, else from the rung's name, split at
    non-alphanumerics, having a part that starts with "mlp" or "cnn" ("mlp", "cnn-fast",
    "mlp2"). Everything else (linear, logistic, stacked linear) is "engineered": the identity φ,
    the baseline that hand-made features improve on.
    """
    if (rung.get("features") or {}).get("kind") not in (None, *REORDERINGS):
        return "engineered"
    kind = (rung.get("model") or {}).get("kind")
    if kind is not None:
        return "learned" if kind in LEARNED_KINDS else "engineered"
    parts = re.split(r"[^a-z0-9]+", rung["name"].lower())
    return "learned" if any(p.startswith(tuple(LEARNED_KINDS)) for p in parts) else "engineered"


def best_rungs(record) -> dict:
    """The best engineered and the best learned rung of one experiment by mean test metric:
    {"problem", "metric", "engineered": (name, value) | None, "learned": (name, value) | None}."""
    key = headline(record.get("task", "classification"))
    best = {"engineered": None, "learned": None}
    for rung in record["rungs"]:
        if key not in rung["metrics"]:
            continue
        value = rung["metrics"][key]["mean"]
        family = rung_family(rung)
        if best[family] is None or value > best[family][1]:
            best[family] = (rung["name"], value)
    return {"problem": record.get("title") or record["name"], "metric": key, **best}


def full_picture(records):
    """A table, one row per problem: the best hand-made-feature rung against the best learned-
    feature rung (see `rung_family` for the rule), each with its test metric, and the gap."""
    rows = [best_rungs(r) for r in _experiments(records)]
    cells = []
    for row in rows:
        unit = "acc" if row["metric"] == "test_accuracy" else "R²"
        eng, lrn = row["engineered"], row["learned"]
        gap = f"{lrn[1] - eng[1]:+.3f}" if eng and lrn else "–"
        cells.append([row["problem"], eng[0] if eng else "–", f"{eng[1]:.3f} {unit}" if eng else "–",
                      lrn[0] if lrn else "–", f"{lrn[1]:.3f} {unit}" if lrn else "–", gap])
    fig, axes = new_figure(panel=(11.0, 0.9 + 0.42 * len(cells)))
    ax = axes[0, 0]
    ax.axis("off")
    table = ax.table(cellText=cells, loc="center", cellLoc="left",
                     colLabels=["problem", "best hand-made φ", "test", "best learned φ", "test",
                                "learned − hand-made"])
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.auto_set_column_width(range(6))
    table.scale(1, 1.5)
    for (r, _), cell in table.get_celld().items():
        if r == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#e8e8e8")
    ax.set_title("The full picture: hand-made features vs learned features", fontsize=11)
    return fig
