"""The course's comparison on the playground's data: a line, the same line on φ, and an MLP."""

from __future__ import annotations

from sklearn.linear_model import LinearRegression, LogisticRegression

from ..claims import Ref, evaluate, parse
from ..estimators import TorchClassifier, TorchRegressor
from .phi import phi

#: The course's claim for each data set, as ladder claim checks over raw / phi / mlp `.score`
#: (test accuracy for classification, test R² for regression).
CLAIMS = {
    "circles": [("A straight line cannot separate two circles", "raw.score < 0.65"),
                ("An MLP learns the round boundary from x1, x2 alone", "mlp.score >= 0.9")],
    "xor": [("No straight line separates xor", "raw.score < 0.65"),
            ("An MLP learns it from x1, x2 alone", "mlp.score >= 0.9")],
    "gauss": [("Two blobs: a straight line is enough", "raw.score >= 0.9")],
    "spirals": [("A straight line cannot follow two spirals", "raw.score < 0.7"),
                ("Hidden layers beat the line", "mlp.score > raw.score")],
    "blobs": [("Blobs around a circle: one straight line per class (softmax) separates them", "raw.score >= 0.9")],
    "moons": [("Hidden layers beat the line on two moons", "mlp.score > raw.score")],
    "plane": [("The target is a plane: linear regression fits it", "raw.score >= 0.9")],
    "sine": [("A line cannot fit a sine wave", "raw.score < 0.5"),
             ("An MLP can", "mlp.score >= 0.8")],
    "csv": [],
}
YOUR_PHI = ("With your φ the linear model comes within 5 points of the MLP", "phi.score >= mlp.score - 0.05")


def compare(data, settings: dict, callback=None) -> dict:
    """Fit the three models on the same split; return the scores and each claim with ✓ or ✗.

    `callback(epoch, history, model)` is called after each of the MLP's epochs (train.py's), and
    may stop the comparison by raising.
    """
    classification = data.task == "classification"
    linear = (lambda: LogisticRegression(max_iter=1000)) if classification else LinearRegression
    hidden = tuple(settings["hidden"]) or (8, 8)
    activation = "identity" if settings["activation"] == "linear" else settings["activation"]
    mlp = (TorchClassifier if classification else TorchRegressor)(
        module="mlp", hidden=hidden, activation=activation, epochs=500, lr=0.01, random_state=0)
    X_train, X_test = data.X_train, data.X_test
    features = settings["features"]
    scores = {
        "raw": linear().fit(X_train, data.y_train).score(X_test, data.y_test),
        "phi": linear().fit(phi(X_train, features), data.y_train).score(phi(X_test, features), data.y_test),
        "mlp": mlp.fit(X_train, data.y_train, callback=callback).score(X_test, data.y_test),
    }
    claims = []
    for text, check in [*CLAIMS[data.name], YOUR_PHI]:
        holds, _ = evaluate(parse(check), lambda ref: scores[ref.rung] if isinstance(ref, Ref) else ref)
        claims.append({"text": text, "check": check, "holds": holds})
    names = {"raw": "logistic regression on x1, x2" if classification else "linear regression on x1, x2",
             "phi": f"the same on φ = {', '.join(features)}",
             "mlp": f"MLP {list(hidden)} ({settings['activation']}) on x1, x2"}
    return {"type": "compare", "metric": "test accuracy" if classification else "test R²",
            "rows": [{"model": key, "name": names[key], "score": float(v)} for key, v in scores.items()],
            "claims": claims}
