"""How the thresholds of `mnist-shift` (part 5) were chosen: on a validation split, never the test set.

Fits the part-5 rungs (the part-4 linear model, MLP and CNN, and the same three trained with
augmentation) on the first 50,000 training images and probes the last 10,000, shifted by 0–4
pixels and rotated by 0–30°, printing a table to choose the claims' thresholds from.

    LADDER_DATA_DIR=../shared/data .venv/bin/python benchmarks/choose_mnist_shift.py [--seeds 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    from ladder import data, experiments
    from ladder.augment import probe_scores
    from ladder.rungs import build_estimator

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args()
    spec = experiments.resolve("mnist-shift")
    mnist = data.load("mnist")
    split = mnist.subset(n_train=50_000)
    validation = type(mnist)("mnist-validation", "classification", split.X_train, mnist.X_train[50_000:],
                             split.y_train, mnist.y_train[50_000:])
    probes = spec.probes.model_copy(update={"n_test": None})
    print(f"{'rung':<12} {'seed':>4} {'fit s':>6}  " + " ".join(f"{k.split('_')[0][:3]}{k.split('_')[1]:>3}"
                                                           for k in probes.keys()))
    for rung in spec.rungs:
        for seed in range(args.seeds):
            train = rung.train.estimator_params() if rung.train else None
            model = build_estimator("classification", rung.features and rung.features.model_dump(),
                                    rung.model.model_dump(), train, seed, "cpu")
            start = time.perf_counter()
            model.fit(validation.rows("train"), validation.y_train)
            seconds = time.perf_counter() - start
            scores = probe_scores(model, validation, probes)
            print(f"{rung.name:<12} {seed:>4} {seconds:>6.1f}  "
                  + " ".join(f"{scores[k]:>6.3f}" for k in probes.keys()), flush=True)
    np.set_printoptions(precision=3)


if __name__ == "__main__":
    main()
