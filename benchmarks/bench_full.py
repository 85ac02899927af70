"""The full `ladder run` as a user types it: wall clock, peak memory of its process tree, every claim.

    LADDER_DATA_DIR=../shared/data .venv/bin/python benchmarks/bench_full.py [--repeat N]

Runs `ladder run --out TMP` (five parts: the four that issue 13 timed and part 5, added since;
figures, weights and report.html) in a fresh process `--repeat` times and, in the same run, the
same command with `--jobs 1` as the serial baseline. Then each runs once more while the summed
RSS (and PSS) of the command and every descendant (worker processes, the forkserver, the figures'
helper) is sampled from /proc every 0.05 s; the peak is printed. The timed runs are not sampled:
reading every process's memory map that often made the full run 1-2 s slower (measured, 2 pairs).
Targets (issue 13, 2-core machine): ≤ 30 s alone, ≤ 1.5 GB peak RSS, every claim holds.
Exits 1 when the command or a claim fails; being over a target is reported, not fatal.
"""

from __future__ import annotations

import argparse
import sys

from common import cpu_note, machine_line, median, run_ladder, spread

TARGET_S = 30.0
TARGET_RSS = 1.5e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"{machine_line()}\n")

    variants = [("ladder run (default --jobs auto)", []), ("ladder run --jobs 1", ["--jobs", "1"])]
    measured = {label: [] for label, _ in variants}
    memory = {}
    failures = []

    def check(label, run):
        if run.returncode != 0 or run.results is None:
            failures.append(f"{label}: exit {run.returncode}\n{run.stderr[-2000:]}")
        failures.extend(f"{label}: claim failed: {c}" for c in run.failed_claims)

    for _ in range(args.repeat):
        for label, extra in variants:  # alternated, so a noisy moment hits both
            run = run_ladder(extra)
            measured[label].append(run)
            print(f"  {label:34} {run.seconds:6.1f} s  cpu {run.cpu_seconds:6.1f} s", flush=True)
            check(label, run)
    for label, extra in variants:
        memory[label] = run = run_ladder(extra, measure_memory=True)
        print(f"  {label:34} peak RSS {run.peak_rss / 1e9:.2f} GB (a run of its own: "
              f"{run.seconds:.1f} s while sampled)", flush=True)
        check(label, run)

    print(f"\n{'command':34} {'wall s':>7} {'min–max':>10} {'cpu s':>6} {'peak RSS':>9} {'peak PSS':>9} {'claims':>7}")
    for label, runs in measured.items():
        seconds = [r.seconds for r in runs]
        rss, pss = memory[label].peak_rss, memory[label].peak_pss
        n_claims = sum(len(e["claims"]) for e in runs[0].results["experiments"]) if runs[0].results else 0
        n_failed = max(len(r.failed_claims) for r in runs)
        cpu = median([r.cpu_seconds for r in runs])
        print(f"{label:34} {median(seconds):7.1f} {spread(seconds):>10} {cpu:6.1f} {rss / 1e9:7.2f}GB "
              f"{pss / 1e9:7.2f}GB {n_claims - n_failed:>3}/{n_claims}")

    print(cpu_note())
    default = measured[variants[0][0]]
    wall, rss = median([r.seconds for r in default]), memory[variants[0][0]].peak_rss
    serial = median([r.seconds for r in measured[variants[1][0]]])
    print(f"\ndefault vs --jobs 1: {serial / wall:.2f}× faster")
    print(f"wall clock {wall:.1f} s (target ≤ {TARGET_S:.0f} s: {'yes' if wall <= TARGET_S else 'NO'}); "
          f"peak RSS {rss / 1e9:.2f} GB (target ≤ {TARGET_RSS / 1e9:.1f} GB: {'yes' if rss <= TARGET_RSS else 'NO'})")
    if default[0].results:
        timings = default[0].results["timings"]
        print("the command's own split (first run): " +
              ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
        for experiment in default[0].results["experiments"]:
            fit = sum(sum(r["fit_seconds"]["values"]) for r in experiment["rungs"])
            print(f"  {experiment['name']:10} Σ fit {fit:6.1f} s over {len(experiment['rungs'])} rungs")
    if failures:
        print("\nfailures:\n" + "\n".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
