"""What a fitted rung is measured by, beyond accuracy and R²."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score

MAX_COEFFICIENTS = 10  # w1 … w10 are reported; wider linear models are summarised by their count


def score(task: str, predicted, y, split: str) -> dict[str, float]:
    """Accuracy for classification; R² and mean squared error for regression.

    A model whose training diverged predicts NaN or inf: its R² and MSE are NaN (written as null).
    """
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
