"""The GPU path (issue 13): SimpleCNN and the full run on a CUDA card, against the same host's CPU.

    LADDER_DATA_DIR=../shared/data .venv/bin/python benchmarks/bench_gpu.py [--repeat 3]
        [--recipes 1024:4:0.02,…] [--no-full-run] [--device cuda] [--quick]

A GPU is lent only sometimes and for minutes, so this is one prepared script (4-5 minutes
on an H100 host, estimated from issue 13's timings) that prints what benchmarks/README.md records:
1. the card, PyTorch and CUDA versions, the host's cores;
2. SimpleCNN on the GPU, training seconds (the median of `--repeat` fits after one warm-up fit
   that pays CUDA's start-up) and test accuracy: the course's per-sample DataLoader pipeline (5
   epochs, batches copied to the GPU one by one), ladder's `cnn` rung as the built-in mnist
   experiment configures it, and the same rung with each large-batch recipe of `--recipes`
   (batch:epochs:learning rate, chosen on the validation split by choose_cnn_batch.py, never here).
   Targets: ≥ 99.0% in ≤ 0.5 s of training, ≥ 10× the course's pipeline;
3. the full `ladder run --out TMP` with `--device cuda` and with `--device cpu` on the same host,
   wall clock and claims. Target: the GPU run ≥ 4× faster.
`--device cpu --quick` (5,000 training images, one epoch each, no full run) checks that the
script itself works on a machine without a GPU. Exits 1 when a command or a claim fails; a speed
target missed is printed, not fatal.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import torch

from choose_cnn_batch import fit_rung, parse_candidates
from common import machine_line, run_ladder
from course import course_cnn

#: Recipes timed beside the rung's own: the fastest that reached 99.0% with both seeds on the
#: validation split (choose_cnn_batch.py, see benchmarks/README.md).
RECIPES = [(512, 3, 0.03, 0.0), (1024, 5, 0.03, 0.0)]  # chosen without label smoothing
CNN_SECONDS, CNN_SPEEDUP, RUN_SPEEDUP = 0.5, 10.0, 4.0


def card(device: str) -> str:
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(device)
        return (f"{props.name}, {props.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}, "
                f"torch {torch.__version__}")
    return f"no GPU (device {device}), torch {torch.__version__}"


def epochs(n: int) -> str:
    return f"{n} epoch{'s' if n != 1 else ''}"


def timed_fits(rung, mnist, device: str, repeat: int, **override) -> tuple[float, float, list[float]]:
    """Median training seconds over `repeat` fits (seeds 0, 1, …), the lowest test accuracy, every time."""
    runs = [fit_rung(rung, mnist, device, seed, **override) for seed in range(repeat)]
    seconds = [s for s, _ in runs]
    return statistics.median(seconds), min(a for _, a in runs), seconds


def main() -> int:
    from ladder import data, experiments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--recipes", type=parse_candidates, default=RECIPES,
                        help="BATCH:EPOCHS:LR,… timed beside the rung's own recipe")
    parser.add_argument("--no-full-run", dest="full_run", action="store_false")
    parser.add_argument("--quick", action="store_true", help="a check of the script, not a measurement")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("bench_gpu: no CUDA device here; run it where a GPU is lent, or try --device cpu --quick",
              file=sys.stderr)
        return 2
    print(f"{machine_line()}\n{card(args.device)}\n", flush=True)
    mnist = data.load("mnist", fallback=False)
    rung = next(r for r in experiments.resolve("mnist").rungs if r.name == "cnn")
    quick = {"epochs": 1} if args.quick else {}
    if args.quick:
        mnist = mnist.subset(n_train=5_000)
        args.full_run = False

    fit_rung(rung, mnist.subset(n_train=2_048), args.device, epochs=1)  # CUDA's start-up, cuDNN's plans
    base_s, base_acc = course_cnn(mnist, epochs=1 if args.quick else 5, device=args.device)
    rows = [(f"course pipeline, {epochs(1 if args.quick else 5)} of 128", base_s, base_acc, [base_s])]
    own = rung.train
    rows.append((f"ladder cnn rung (batch {own.batch_size}, {epochs(quick.get('epochs', own.epochs))}, "
                 f"lr {own.lr}, smoothing {own.label_smoothing})",
                 *timed_fits(rung, mnist, args.device, args.repeat, **quick)))
    for batch_size, n_epochs, lr, eps in args.recipes:
        recipe = {"batch_size": batch_size, "epochs": n_epochs, "lr": lr, "label_smoothing": eps, **quick}
        rows.append((f"ladder cnn, batch {batch_size}, {epochs(recipe['epochs'])}, lr {lr}, smoothing {eps}",
                     *timed_fits(rung, mnist, args.device, args.repeat, **recipe)))

    ok = True
    print(f"{'SimpleCNN on ' + args.device:62} {'train s':>8} {'test acc':>9} {'× course':>9}  all fits")
    for label, seconds, accuracy, times in rows:
        print(f"{label:62} {seconds:8.2f} {accuracy:9.2%} {base_s / seconds:8.1f}×  "
              + ", ".join(f"{t:.2f}" for t in times))
    for label, seconds, accuracy, _ in rows[1:]:
        met = accuracy >= 0.99 and seconds <= CNN_SECONDS and base_s / seconds >= CNN_SPEEDUP
        print(f"  {label}: ≥ 99.0% {'yes' if accuracy >= 0.99 else 'NO'}, ≤ {CNN_SECONDS} s "
              f"{'yes' if seconds <= CNN_SECONDS else 'NO'}, ≥ {CNN_SPEEDUP:.0f}× "
              f"{'yes' if base_s / seconds >= CNN_SPEEDUP else 'NO'}{'  (all met)' if met else ''}")

    if args.full_run:
        print("\nthe full `ladder run --out TMP` on this host:", flush=True)
        runs = {}
        for device in (args.device, "cpu"):
            run = runs[device] = run_ladder(["--device", device])
            claims = sum(len(e["claims"]) for e in run.results["experiments"]) if run.results else 0
            print(f"  --device {device:5} {run.seconds:7.1f} s  cpu {run.cpu_seconds:7.1f} s  "
                  f"claims {claims - len(run.failed_claims)}/{claims}  exit {run.returncode}", flush=True)
            if not run.ok:
                ok = False
                print(f"    {run.stderr[-1500:]}\n    failed claims: {run.failed_claims}")
            elif run.results:
                print("    own split: " + ", ".join(f"{k} {v:.1f} s" for k, v in run.results["timings"].items()))
        ratio = runs["cpu"].seconds / runs[args.device].seconds
        print(f"  {args.device} {ratio:.2f}× faster than cpu (target ≥ {RUN_SPEEDUP:.0f}×: "
              f"{'yes' if ratio >= RUN_SPEEDUP else 'NO'})")
    ok &= all(accuracy >= 0.99 for _, _, accuracy, _ in rows[1:]) or args.quick
    print(f"\nload at the end: {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
