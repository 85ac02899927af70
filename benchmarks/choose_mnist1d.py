"""How part 6's recipes and thresholds were chosen: on a validation split, never the test set.

Fits rungs of `mnist1d` on the first 3,000 of MNIST-1D's 4,000 training signals and scores them
on the last 1,000, printing each fit's accuracy, wall-clock and CPU time (the median over seeds), so recipes can be compared and the
claims' thresholds read off. `--recipe NAME=KEY:VALUE,...` tries a training recipe on a rung
instead of the file's (`--recipe cnn=epochs:20,batch_size:200,lr:0.02`).

    .venv/bin/python benchmarks/choose_mnist1d.py [--seeds 3] [--rungs cnn mlp] [--recipe …]
        [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time


def parse_recipe(text: str) -> tuple[str, dict]:
    import tomllib

    name, _, settings = text.partition("=")
    recipe = {}
    for pair in settings.split(","):
        key, _, value = pair.partition(":")
        recipe[key] = tomllib.loads(f"v = {value}")["v"]
    return name, recipe


def main() -> None:
    from ladder import budget, data, experiments
    from ladder.rungs import build_estimator

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rungs", nargs="+", help="only these rungs (default: all)")
    parser.add_argument("--recipe", action="append", default=[], help="RUNG=key:value,… (repeatable)")
    parser.add_argument("--threads", type=int, help="threads per fit (default: ladder's choice)")
    args = parser.parse_args()
    recipes = dict(parse_recipe(r) for r in args.recipe)
    spec = experiments.resolve("mnist1d")
    signals = data.load("mnist1d")
    fit, scored = slice(None, 3000), slice(3000, None)
    X, y, X_val, y_val = signals.X_train[fit], signals.y_train[fit], signals.X_train[scored], signals.y_train[scored]
    print(f"{'rung':<16} {'recipe':<48} {'accuracy per seed':<24} {'mean':>6} {'fit s':>6} {'cpu s':>6}")
    for rung in [r for r in spec.rungs if not args.rungs or r.name in args.rungs]:
        train = rung.train.estimator_params() if rung.train else None
        if rung.name in recipes:
            train = {**(train or {}), **recipes[rung.name]}
        if args.threads and train is not None:
            train["n_threads"] = args.threads
        scores, seconds, cpu = [], [], []
        for seed in range(args.seeds):
            model = build_estimator("classification", rung.features and rung.features.model_dump(),
                                    rung.model.model_dump(), train, seed, "cpu")
            start, start_cpu = time.perf_counter(), time.process_time()
            with budget.threads(args.threads or 1):  # scikit-learn's solvers: one thread, as in a run
                model.fit(X, y)
            seconds.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            scores.append(model.score(X_val, y_val))
        shown = ",".join(f"{k}:{v}" for k, v in (train or {}).items() if k != "n_threads") or "-"
        print(f"{rung.name:<16} {shown[:48]:<48} {' '.join(f'{s:.3f}' for s in scores):<24} "
              f"{statistics.mean(scores):>6.3f} {statistics.median(seconds):>6.2f} "
              f"{statistics.median(cpu):>6.2f}", flush=True)


if __name__ == "__main__":
    main()
