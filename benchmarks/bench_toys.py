"""How long the course's three toy experiments take: `ladder run circles sine spirals --seeds 3`.

The budget is 20 s on a 2-core machine, start-up included. This script times the command as a
user runs it (a fresh process, wall clock), then each experiment in this process, and prints a
table. It exits 1 when a claim fails or the command fails; being over budget is reported, not fatal.

    .venv/bin/python benchmarks/bench_toys.py [--seeds 3] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ladder_command

BUDGET_S = 20.0
EXPERIMENTS = ["circles", "sine", "spirals"]


def run_cli(seeds: int, env: dict) -> tuple[float, int, dict | None, str]:
    """Wall-clock seconds, exit code, results.json and stderr of the command a user types."""
    with tempfile.TemporaryDirectory(prefix="bench-toys-") as out:
        command = ladder_command() + ["run", *EXPERIMENTS, "--seeds", str(seeds), "--out", out]
        start = time.perf_counter()
        process = subprocess.run(command, capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - start
        path = Path(out) / "results.json"
        results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    return seconds, process.returncode, results, process.stderr


def time_in_process(seeds: int) -> dict[str, float]:
    """Each experiment run through the library (no start-up, no printing), in seconds."""
    from ladder import experiments
    from ladder.runner import run_experiment

    times = {}
    for name in EXPERIMENTS:
        spec = experiments.resolve(name)
        start = time.perf_counter()
        run_experiment(spec, list(range(seeds)))
        times[name] = time.perf_counter() - start
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per task (LADDER_THREADS); default: ladder's own budget")
    args = parser.parse_args()

    env = dict(os.environ)
    if args.threads:  # the product's own override, in the command and in this process
        env["LADDER_THREADS"] = os.environ["LADDER_THREADS"] = str(args.threads)
    import torch

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    threads = args.threads or "ladder's budget"
    print(f"ladder run {' '.join(EXPERIMENTS)} --seeds {args.seeds}   "
          f"({os.cpu_count()} cores, load {load:.1f}, torch {torch.__version__}, threads: {threads})\n")

    wall, code, results, stderr = run_cli(args.seeds, env)
    if code != 0 or results is None:
        print(f"the command failed (exit {code}):\n{stderr}")
        return 1
    in_process = time_in_process(args.seeds)

    print(f"{'experiment':<10} {'rungs':>5} {'claims':>7} {'fit s (cli)':>12} {'run s (lib)':>12}")
    failed, total_fit = [], 0.0
    for experiment in results["experiments"]:
        name = experiment["name"]
        fit = sum(sum(r["fit_seconds"]["values"]) for r in experiment["rungs"])
        total_fit += fit
        holds = sum(c["holds"] for c in experiment["claims"])
        failed += [f"{name}: {c['check']} (value {c['value']})" for c in experiment["claims"] if not c["holds"]]
        print(f"{name:<10} {len(experiment['rungs']):>5} {holds:>3}/{len(experiment['claims']):<3} "
              f"{fit:>12.2f} {in_process[name]:>12.2f}")
        for rung in experiment["rungs"]:
            print(f"  {rung['name']:<14} {sum(rung['fit_seconds']['values']):>8.2f} s fit "
                  f"over {len(rung['fit_seconds']['values'])} seeds")
    print(f"{'total':<10} {'':>5} {'':>7} {total_fit:>12.2f} {sum(in_process.values()):>12.2f}")
    print(f"\nthe command's own total (training, figures, report): {results['total_seconds']:.1f} s")
    verdict = "within" if wall <= BUDGET_S else "OVER"
    print(f"wall clock of the command, start-up included: {wall:.1f} s — {verdict} the {BUDGET_S:.0f} s budget")
    if failed:
        print("claims that failed:\n  " + "\n  ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
