"""How a SimpleCNN recipe for large batches is chosen: on a validation split, never the test set.

Fits SimpleCNN (the `cnn` rung of the built-in mnist experiment, its settings replaced by each
candidate's) on the first 50,000 training images and scores the last 10,000, for each candidate
recipe (batch size, epochs, learning rate; Adam with a one-cycle schedule, as the rung) and seed.
Prints the fit time and the validation accuracy of each, then the fastest candidate that reached
`--needed` with every seed.

Why large batches: a GPU (issue 13's GPU path) takes a step of 1,024 images about as fast as one
of 128, so eight times fewer steps make training up to eight times shorter; a CPU gains little
(one epoch at batch 512 was 15% faster than at 128 on the 2-core machine).

    LADDER_DATA_DIR=../shared/data .venv/bin/python benchmarks/choose_cnn_batch.py [--device cuda]
        [--seeds 2] [--candidates 1024:4:0.02,512:3:0.01]

The accuracy hardly depends on the device (the same recipe, other rounding), so a recipe can be
chosen on a CPU and timed on a GPU; the GPU benchmark re-checks it there.
"""

from __future__ import annotations

import argparse
import time

#: (batch size, epochs, peak learning rate, label smoothing) tried by default: the rung's own
#: recipe first, then the two-epoch one it replaced and the large-batch ones (chosen without
#: smoothing, on 2026-12-02).
CANDIDATES = [(64, 1, 0.008, 0.1), (128, 2, 0.01, 0.0), (512, 3, 0.01, 0.0), (512, 3, 0.02, 0.0),
              (1024, 3, 0.02, 0.0), (1024, 4, 0.02, 0.0), (1024, 4, 0.03, 0.0), (2048, 5, 0.03, 0.0)]


def parse_candidates(text: str) -> list[tuple[int, int, float, float]]:
    """'1024:4:0.02,64:1:0.008:0.1' → [(1024, 4, 0.02, 0.0), (64, 1, 0.008, 0.1)]: label smoothing
    is 0 where a candidate leaves it out."""
    try:
        return [(int(b), int(e), float(lr), float(eps[0]) if eps else 0.0)
                for b, e, lr, *eps in (item.split(":") for item in text.split(","))]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write BATCH:EPOCHS:LR[:LABEL_SMOOTHING], "
                                         f"comma-separated") from None


def validation_split(mnist):
    """The first 50,000 training images to fit, the last 10,000 to score, as a Dataset."""
    head = mnist.subset(n_train=50_000)
    return type(mnist)("mnist-validation", "classification", head.X_train, mnist.X_train[50_000:],
                       head.y_train, mnist.y_train[50_000:])


def fit_rung(rung, dataset, device: str, seed: int = 0, **override) -> tuple[float, float]:
    """(fit seconds, accuracy on the dataset's test split) of the rung, its training settings
    replaced by `override` (batch_size, epochs, lr, …)."""
    import torch

    from ladder.rungs import build_estimator

    train = {**rung.train.estimator_params(), **override}
    model = build_estimator("classification", None, rung.model.model_dump(), train, seed, device)
    start = time.perf_counter()
    model.fit(dataset.rows("train"), dataset.y_train)
    if device.startswith("cuda"):
        torch.cuda.synchronize()  # (the fit already waits for each epoch's loss)
    seconds = time.perf_counter() - start
    return seconds, float(model.score(dataset.rows("test"), dataset.y_test))


def choose(results: dict, needed: float) -> tuple | None:
    """The candidate with the shortest median fit among those that reached `needed` with every seed."""
    passing = [(sorted(s for s, _ in runs)[len(runs) // 2], key) for key, runs in results.items()
               if all(accuracy >= needed for _, accuracy in runs)]
    return min(passing)[1] if passing else None


def main() -> None:
    from ladder import data, experiments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--needed", type=float, default=0.99, help="validation accuracy to reach")
    parser.add_argument("--candidates", type=parse_candidates, default=CANDIDATES,
                        help="BATCH:EPOCHS:LR[:LABEL_SMOOTHING],… (default: %(default)s)")
    args = parser.parse_args()
    rung = next(r for r in experiments.resolve("mnist").rungs if r.name == "cnn")
    validation = validation_split(data.load("mnist", fallback=False))
    results: dict[tuple, list[tuple[float, float]]] = {}
    print(f"{'batch':>5} {'epochs':>6} {'lr':>6} {'smooth':>6} {'seed':>4} {'fit s':>7} {'validation':>10}")
    for batch_size, epochs, lr, eps in args.candidates:
        for seed in range(args.seeds):
            seconds, accuracy = fit_rung(rung, validation, args.device, seed, batch_size=batch_size,
                                         epochs=epochs, lr=lr, label_smoothing=eps)
            results.setdefault((batch_size, epochs, lr, eps), []).append((seconds, accuracy))
            print(f"{batch_size:>5} {epochs:>6} {lr:>6} {eps:>6} {seed:>4} {seconds:>7.2f} {accuracy:>10.4f}",
                  flush=True)
    best = choose(results, args.needed)
    print(f"\nfastest with every seed ≥ {args.needed:.2%}: " +
          (f"batch {best[0]}, {best[1]} epochs, lr {best[2]}, label smoothing {best[3]}" if best else "none"))


if __name__ == "__main__":
    main()
