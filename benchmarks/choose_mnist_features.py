"""How part 4's claims on hand-made against learned features were chosen: on a validation split.

Fits part 4's raw-pixel, hand-crafted, HOG and MLP rungs on the first 50,000 training images and
scores the last 10,000 (never the test set), printing each rung's accuracy per seed and the gaps
the claims speak of: HOG over raw pixels, HOG against the MLP.

    LADDER_DATA_DIR=../shared/data .venv/bin/python benchmarks/choose_mnist_features.py [--seeds 2]
"""

from __future__ import annotations

import argparse

import numpy as np

RUNGS = ["logreg", "logreg+handcrafted", "logreg+hog", "mlp"]


def main() -> None:
    from ladder import data, experiments
    from ladder.rungs import build_estimator

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    spec = experiments.resolve("mnist")
    mnist = data.load("mnist", fallback=False)
    X_fit, y_fit = mnist.X_train[:50_000], mnist.y_train[:50_000]
    X_val, y_val = mnist.X_train[50_000:], mnist.y_train[50_000:]
    scores: dict[str, list[float]] = {}
    for rung in [r for r in spec.rungs if r.name in RUNGS]:
        for seed in range(args.seeds if rung.train is not None else 1):  # scikit-learn's fits are deterministic
            model = build_estimator(spec.task, rung.features and rung.features.model_dump(),
                                    rung.model.model_dump(), rung.train.estimator_params() if rung.train else None,
                                    seed=seed, device="cpu")
            model.fit(X_fit.reshape(len(X_fit), -1), y_fit)
            score = float(np.mean(model.predict(X_val.reshape(len(X_val), -1)) == y_val))
            scores.setdefault(rung.name, []).append(score)
            print(f"{rung.name:<20} seed {seed}  {score:.4f}", flush=True)
    mean = {name: float(np.mean(values)) for name, values in scores.items()}
    print(f"HOG - raw pixels: {mean['logreg+hog'] - mean['logreg']:+.4f}; "
          f"HOG - MLP: {mean['logreg+hog'] - mean['mlp']:+.4f}; "
          f"hand-crafted - raw pixels: {mean['logreg+handcrafted'] - mean['logreg']:+.4f}")


if __name__ == "__main__":
    main()
