"""The training loop's own cost: TorchClassifier vs skorch vs a bare five-line PyTorch loop.

    .venv/bin/python benchmarks/bench_loop.py [--repeat N] [--epochs 2000]

The same 2-64-64 MLP (ReLU), Adam lr 0.01, full-batch, on the 750 training points of the spirals
experiment's dataset, one thread each, fitted in the same process, alternating, `--repeat` times:
- bare: `model(X)`, loss, `backward()`, `step()`, `zero_grad()` in a Python for loop (one logit, BCE);
- bare, fused Adam: the same five lines with `Adam(fused=True)`, which ladder's loop uses, so the
  ratio to it is the cost of ladder's own bookkeeping alone;
- ladder: `TorchClassifier(module="mlp", hidden=(64, 64), batch_size=None, n_threads=1)`;
- skorch: `NeuralNetClassifier` (two logits, cross-entropy; `batch_size=750`, `train_split=None`),
  the common way to wrap a PyTorch module for scikit-learn (`pip install skorch`: `make bench`
  installs the `bench` extra).
Prints each one's median seconds and ratio to the bare loop. Goal (issue 13): ladder ≤ 1.1× the
bare loop; the playground trains epoch by epoch and pays this overhead on every frame.
Exits 1 only when a model fails to learn the spirals (test accuracy < 0.9); over the goal is reported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

from ladder import experiments
from ladder.estimators import TorchClassifier
from ladder.models import MLP
from ladder.runner import load_dataset

GOAL = 1.1


def bare(data, epochs: int, fused: bool = False) -> tuple[float, float]:
    """The five steps, nothing else: (seconds, test accuracy)."""
    X = torch.as_tensor(data.X_train, dtype=torch.float32)
    y = torch.as_tensor(data.y_train, dtype=torch.float32)[:, None]
    torch.manual_seed(0)
    model = MLP((2,), 1, hidden=(64, 64))
    opt = torch.optim.Adam(model.parameters(), lr=0.01, fused=fused or None)
    loss_fn = nn.BCEWithLogitsLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        loss = loss_fn(model(X), y)  # 1. forward  2. loss
        loss.backward()              # 3. backward
        opt.step()                   # 4. step
        opt.zero_grad()              # 5. zero_grad
    seconds = time.perf_counter() - start
    with torch.no_grad():
        predicted = (model(torch.as_tensor(data.X_test, dtype=torch.float32))[:, 0] > 0).numpy()
    return seconds, float(np.mean(predicted == data.y_test))


def ladder(data, epochs: int) -> tuple[float, float]:
    model = TorchClassifier(module="mlp", hidden=(64, 64), epochs=epochs, lr=0.01, batch_size=None,
                            n_threads=1, device="cpu", random_state=0)
    start = time.perf_counter()
    model.fit(data.X_train, data.y_train)
    return time.perf_counter() - start, model.score(data.X_test, data.y_test)


def skorch(data, epochs: int) -> tuple[float, float]:
    from skorch import NeuralNetClassifier

    torch.manual_seed(0)
    model = NeuralNetClassifier(MLP, module__in_shape=(2,), module__n_outputs=2, module__hidden=(64, 64),
                                criterion=nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=0.01,
                                max_epochs=epochs, batch_size=len(data.X_train), train_split=None,
                                verbose=0, device="cpu")
    X = data.X_train.astype(np.float32)
    start = time.perf_counter()
    model.fit(X, data.y_train.astype(np.int64))
    return time.perf_counter() - start, model.score(data.X_test.astype(np.float32), data.y_test)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_dataset(experiments.resolve("spirals"))
    contenders = {"bare five-line loop": bare, "ladder TorchClassifier": ladder,
                  "bare loop, fused Adam": lambda data, epochs: bare(data, epochs, fused=True)}
    try:
        import skorch as _  # noqa: F401
        contenders["skorch NeuralNetClassifier"] = skorch
    except ImportError:
        print("skorch is not installed (pip install skorch): left out")
    print(f"2-64-64 MLP, {args.epochs} full-batch epochs on {len(data.X_train)} spirals points, "
          f"1 thread, torch {torch.__version__}, {args.repeat} rounds alternating\n")

    for fit in contenders.values():  # warm-up: first-call costs (lazy imports, allocator) paid once
        fit(data, 20)
    times = {name: [] for name in contenders}
    accuracy = {}
    for _ in range(args.repeat):
        for name, fit in contenders.items():
            seconds, accuracy[name] = fit(data, args.epochs)
            times[name].append(seconds)

    base = statistics.median(times["bare five-line loop"])
    print(f"{'loop':28} {'median s':>9} {'min–max s':>12} {'× bare':>7} {'test acc':>9}")
    for name, values in times.items():
        print(f"{name:28} {statistics.median(values):9.2f} {min(values):5.2f}–{max(values):<6.2f} "
              f"{statistics.median(values) / base:6.2f}× {accuracy[name]:9.3f}")
    ratio = statistics.median(times["ladder TorchClassifier"]) / base
    print(f"\nladder / bare = {ratio:.2f}× (goal ≤ {GOAL}×: {'yes' if ratio <= GOAL else 'NO'})")
    # ladder's loop uses fused Adam: against a bare loop with the same optimiser, what is left is
    # the loop's own bookkeeping (history, shuffling, autocast context, validation).
    own = statistics.median(times["ladder TorchClassifier"]) / statistics.median(times["bare loop, fused Adam"])
    print(f"ladder / bare loop with the same fused Adam = {own:.2f}× (the loop's own bookkeeping)")
    return 0 if all(a >= 0.9 for a in accuracy.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
