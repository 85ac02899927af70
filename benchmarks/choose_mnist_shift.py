"""How the thresholds of `mnist-shift` (part 5) were chosen: on a validation split, never the test set.

Fits the part-5 rungs (the part-4 linear model, MLP and CNN, and the same three trained with
augmentation) on the first 50,000 training images and probes the last 10,000, shifted by 0–4
pixels and rotated by 0–30°, printing a table to choose the claims' thresholds from. `--split
first` checks a choice on the other split: fit on the last 50,000, probe the first 10,000.

    LADDER_DATA_DIR=../shared/data .venv/bin/python benchmarks/choose_mnist_shift.py [--seeds 1]
        [--split first] [--rungs cnn+aug ...]
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
    parser.add_argument("--split", choices=("last", "first"), default="last",
                        help="the 10,000 training images probed: the last (default) or the first")
    parser.add_argument("--rungs", nargs="+", help="only these rungs (default: all six)")
    args = parser.parse_args()
    spec = experiments.resolve("mnist-shift")
    mnist = data.load("mnist", fallback=False)
    fit, probed = (slice(None, 50_000), slice(50_000, None)) if args.split == "last" else \
        (slice(10_000, None), slice(None, 10_000))
    validation = type(mnist)("mnist-validation", "classification", mnist.X_train[fit], mnist.X_train[probed],
                             mnist.y_train[fit], mnist.y_train[probed])
    probes = spec.probes.model_copy(update={"n_test": None})
    print(f"{'rung':<12} {'seed':>4} {'fit s':>6}  " + " ".join(f"{k.split('_')[0][:3]}{k.split('_')[1]:>3}"
                                                           for k in probes.keys()))
    for rung in [r for r in spec.rungs if not args.rungs or r.name in args.rungs]:
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
