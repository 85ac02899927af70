"""Serial vs worker processes vs Ray for the toy parts, and how the time grows with the seeds.

Runs `circles sine spirals` through the library with 1, 2, 4 and 8 seeds on each backend (the
same tasks, the same records: the numbers are checked equal), on the cores of this machine.
Ray's start-up (a local instance, as `ladder run --backend ray` starts one) and shut-down are
timed apart from the runs, so the table shows what Ray costs once and what it costs per task.

    .venv/bin/python benchmarks/bench_scale.py [--seeds 1 2 4 8] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

EXPERIMENTS = ["circles", "sine", "spirals"]


def numbers(runs) -> dict:
    return {(r.record["name"], rung["name"], key): s["values"]
            for r in runs for rung in r.record["rungs"] for key, s in rung["metrics"].items()}


def timed(specs, seeds: int, backend: str, jobs: int) -> tuple[float, dict]:
    from ladder.plan import plan_run
    from ladder.runner import load_datasets, run_experiments

    datasets = load_datasets(specs)
    plan = plan_run(specs, datasets, seeds, jobs, backend=backend, device="cpu", cores=jobs)
    start = time.perf_counter()
    runs = run_experiments(specs, list(range(seeds)), plan, datasets=datasets)
    return time.perf_counter() - start, numbers(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel tasks (local, ray)")
    args = parser.parse_args()

    from ladder import experiments
    from ladder.ray_executor import connect, import_ray

    specs = [experiments.resolve(name) for name in EXPERIMENTS]
    n_rungs = sum(len(spec.rungs) for spec in specs)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    ray = import_ray()
    print(f"{' '.join(EXPERIMENTS)}: {n_rungs} rungs × seeds; {os.cpu_count()} cores, load {load:.1f}, "
          f"{args.jobs} parallel tasks of 1 thread (local, ray), ray {ray.__version__}\n")
    timed(specs, 1, "serial", args.jobs)  # imports and first-call costs, paid by every backend alike

    start = time.perf_counter()
    connect(ray, None, args.jobs)
    startup = time.perf_counter() - start
    rows, mismatched = [], []
    try:
        for seeds in args.seeds:
            times = {}
            for backend in ("serial", "local", "ray"):
                times[backend], got = timed(specs, seeds, backend, args.jobs)
                if backend == "serial":
                    reference = got
                elif got != reference:
                    mismatched.append(f"{backend}, {seeds} seeds")
            rows.append((seeds, times))
    finally:
        start = time.perf_counter()
        ray.shutdown()
        shutdown = time.perf_counter() - start

    print(f"{'seeds':>5} {'tasks':>5} {'serial s':>9} {'local s':>8} {'ray s':>7} "
          f"{'serial/local':>12} {'serial/ray':>10} {'ray+start s':>11} {'serial/(ray+start)':>18}")
    for seeds, t in rows:
        with_start = t["ray"] + startup + shutdown
        print(f"{seeds:>5} {seeds * n_rungs:>5} {t['serial']:>9.1f} {t['local']:>8.1f} {t['ray']:>7.1f} "
              f"{t['serial'] / t['local']:>12.2f} {t['serial'] / t['ray']:>10.2f} {with_start:>11.1f} "
              f"{t['serial'] / with_start:>18.2f}")
    print(f"\nRay's own cost, once per `ladder run --backend ray`: start-up {startup:.1f} s, "
          f"shut-down {shutdown:.1f} s (not in the 'ray s' column)")
    first, last = rows[0], rows[-1]
    for backend in ("serial", "local", "ray"):
        per_seed = (last[1][backend] - first[1][backend]) / max(1, last[0] - first[0])
        print(f"{backend:>6}: {per_seed:.2f} s per extra seed ({first[0]} → {last[0]} seeds)")
    if mismatched:
        print("DIFFERENT numbers from serial: " + "; ".join(mismatched))
        return 1
    print("every backend gave the same numbers as serial")
    return 0


if __name__ == "__main__":
    sys.exit(main())
