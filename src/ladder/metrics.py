"""What a rung is measured by: one table of every metric, and the functions that compute them.

The table (METRICS) is the one vocabulary the rest of ladder reads: the spec checks claims
against it, the terminal table and the report take their columns and headings from it, and the
figures their labels. The counts (n_features, n_params, fit_seconds) are fields of a rung's
record rather than metrics; `value_of` reads either, so a claim need not care which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_COEFFICIENTS = 10  # w1 … w10 are reported; wider linear models are summarised by their count

CLASSIFICATION, REGRESSION = frozenset({"classification"}), frozenset({"regression"})
EVERY_TASK = CLASSIFICATION | REGRESSION
TRAINED_BY_LADDER = frozenset({"torch", "manual"})  # backends whose loop records a loss per epoch
LINEAR_KINDS = frozenset({"linear", "logistic"})


@dataclass(frozen=True)
class Metric:
    """One thing a rung is measured by, and how it is shown."""
    key: str  # its name in results.json and in claims
    label: str  # its heading in tables and figures
    tasks: frozenset = EVERY_TASK  # the tasks it is measured for
    backends: frozenset | None = None  # the backends that produce it (None: all)
    kinds: frozenset | None = None  # the model kinds that produce it (None: all)
    column: bool = False  # a column of the results table (terminal and report)
    headline: bool = False  # the test score a curve or a bar chart shows for its task

    def applies(self, task: str, backend: str, kind: str) -> bool:
        return (task in self.tasks and (self.backends is None or backend in self.backends)
                and (self.kinds is None or kind in self.kinds))

    @property
    def short(self) -> str:
        """The key in words, for narrow terminal columns: "test_accuracy" → "test acc"."""
        return self.key.replace("_", " ").replace("accuracy", "acc")



METRICS = {m.key: m for m in [
    Metric("test_accuracy", "test acc", CLASSIFICATION, column=True, headline=True),
    Metric("train_accuracy", "train acc", CLASSIFICATION, column=True),
    Metric("test_r2", "test R²", REGRESSION, column=True, headline=True),
    Metric("test_mse", "test MSE", REGRESSION, column=True),
    Metric("train_r2", "train R²", REGRESSION, column=True),
    Metric("train_mse", "train MSE", REGRESSION),
    Metric("final_loss", "final loss", backends=TRAINED_BY_LADDER),
    Metric("test_loss", "test loss", backends=frozenset({"torch"})),
    Metric("loss_drops", "loss drops", backends=TRAINED_BY_LADDER),
    Metric("boundary_linearity", "boundary linearity", CLASSIFICATION),
    *(Metric(f"w{i}", f"w{i}", kinds=LINEAR_KINDS) for i in range(1, MAX_COEFFICIENTS + 1)),
    Metric("b", "b", kinds=LINEAR_KINDS),
]}

#: Fields of a rung's record that a claim may use like a metric.
FIELDS = {"n_features": "features", "n_params": "params", "fit_seconds": "fit s"}


def probe_key(kind: str, amount: float) -> str:
    """The metric of a probe: "shift_3_accuracy" (3 pixels), "rotate_20_accuracy" (20 degrees)."""
    amount = int(amount) if float(amount).is_integer() else amount
    return f"{kind}_{amount}_accuracy"


def probe_columns(experiment: dict) -> list[tuple[str, str]]:
    """(metric, heading) of each probe an experiment record was scored on: "→3px", "↻20°"."""
    probes = experiment.get("probes") or {}
    keys = [(probe_key("shift", s), f"→{s}px") for s in probes.get("shift", [])]
    return keys + [(probe_key("rotate", r), f"↻{probe_key('rotate', r).split('_')[1]}°")
                   for r in probes.get("rotate", [])]


def probed_on(experiment: dict) -> str:
    """Which test images the probes scored: "the first 2,000 test images", or "every test image"
    when the limit is at least the test split (the 8×8 stand-in for MNIST has 450)."""
    probes, n_test = experiment.get("probes") or {}, experiment.get("dataset", {}).get("n_test")
    if probes.get("n_test") and (n_test is None or probes["n_test"] < n_test):
        return f"the first {probes['n_test']:,} test images"
    return "every test image"


def columns(task: str) -> list[Metric]:
    """The metrics shown as columns of a results table for `task`: training scores, then test scores."""
    return sorted((m for m in METRICS.values() if m.column and task in m.tasks),
                  key=lambda m: not m.key.startswith("train_"))


def headline(task: str) -> str:
    """The key of the test score that stands for a rung of `task` in curves and bar charts."""
    return next(m.key for m in METRICS.values() if m.headline and task in m.tasks)


def label(key: str) -> str:
    metric = METRICS.get(key)
    return metric.label if metric else FIELDS.get(key, key.replace("_", " "))


def claimable(task: str, backend: str, kind: str) -> list[str]:
    """Every name a claim may use on a rung of this task, backend and model kind: scores first."""
    keys = [m.key for m in METRICS.values() if m.applies(task, backend, kind)]
    scores = [k for k in keys if k.startswith(("test_", "train_"))]
    return scores + list(FIELDS) + [k for k in keys if k not in scores]


def value_of(rung: dict, key: str) -> float | None:
    """A metric's mean over seeds, or a field's value, from a rung's results.json record.

    Raises KeyError when the rung has neither (a scikit-learn model with no count of parameters).
    """
    if key in FIELDS:
        field = rung[key]
        if field is None:
            raise KeyError(key)
        return field["mean"] if isinstance(field, dict) else float(field)
    return rung["metrics"][key]["mean"]


# -- counting ------------------------------------------------------------------------------------
def count_features(estimator, n_inputs: int) -> int:
    """How many features the final model sees (after φ, if the rung has one)."""
    return int(getattr(final_step(estimator), "n_features_in_", n_inputs))


def count_params(estimator) -> int | None:
    """Learned numbers in the final model: weights + biases (coef_ + intercept_ for scikit-learn)."""
    final = final_step(estimator)
    if hasattr(final, "n_params_"):
        return int(final.n_params_)
    if hasattr(final, "coefs_"):  # scikit-learn's MLP
        return int(sum(w.size for w in final.coefs_) + sum(b.size for b in final.intercepts_))
    if hasattr(final, "coef_"):
        return int(np.size(final.coef_) + np.size(final.intercept_))
    return None


# -- computing -----------------------------------------------------------------------------------


def score(task: str, predicted, y, split: str) -> dict[str, float]:
    """Accuracy for classification; R² and mean squared error for regression.

    A model whose training diverged predicts NaN or inf: its R² and MSE are NaN (written as null).
    """
    from sklearn.metrics import accuracy_score, mean_squared_error, r2_score

    if task == "regression" and not np.all(np.isfinite(predicted)):
        return {f"{split}_r2": float("nan"), f"{split}_mse": float("nan")}
    if task == "classification":
        return {f"{split}_accuracy": float(accuracy_score(y, predicted))}
    return {f"{split}_r2": float(r2_score(y, predicted)), f"{split}_mse": float(mean_squared_error(y, predicted))}


def final_step(estimator):
    """The model at the end of a pipeline (or the estimator itself)."""
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def linear_coefficients(estimator) -> dict[str, float]:
    """w1, w2, … and b of a single-output linear model (y = w1·x1 + w2·x2 + … + b), else {}.

    Works for scikit-learn's linear models (coef_, intercept_) and for PyTorch rungs whose module
    is one nn.Linear (LinearNet) or whose glass-box parameters are `weight_` and `bias_`.
    """
    model = final_step(estimator)
    if hasattr(model, "coef_"):
        w, b = np.atleast_2d(model.coef_), np.atleast_1d(model.intercept_)
    elif hasattr(model, "weight_"):
        w, b = np.atleast_2d(model.weight_), np.atleast_1d(model.bias_)
    elif getattr(getattr(model, "module_", None), "linear", None) is not None:
        layer = model.module_.linear
        w, b = layer.weight.detach().cpu().numpy(), layer.bias.detach().cpu().numpy()
    else:
        return {}
    if w.shape[0] != 1 or w.shape[1] > MAX_COEFFICIENTS:
        return {}
    return {**{f"w{i + 1}": float(v) for i, v in enumerate(w[0])}, "b": float(b[0])}


def boundary_linearity(estimator, X, resolution: int = 100) -> float:
    """How straight a 2-D classifier's decision boundary is, from 0.5 (not at all) to 1 (a line).

    The model labels a dense grid over the data's bounding box; a logistic regression is fitted
    to those labels, and the score is the fraction of the grid on which the two agree. A model
    whose boundary is a straight line (or which predicts one class everywhere) scores 1.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score

    X = np.asarray(X, dtype=float)
    lo, hi = X.min(0), X.max(0)
    margin = 0.1 * (hi - lo)
    axes = [np.linspace(a, b, resolution) for a, b in zip(lo - margin, hi + margin)]
    grid = np.column_stack([g.ravel() for g in np.meshgrid(*axes)])
    labels = estimator.predict(grid)
    if len(np.unique(labels)) < 2:
        return 1.0
    line = LogisticRegression(C=1e6, max_iter=5000).fit(grid, labels)
    return float(accuracy_score(labels, line.predict(grid)))


def loss_drops(history: dict) -> float:
    """The fraction of epochs whose mean training loss is below the epoch before's (1.0: it always fell)."""
    loss = np.asarray(history.get("loss", []))
    return float(np.mean(loss[1:] < loss[:-1])) if len(loss) > 1 else 1.0
