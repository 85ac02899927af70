"""`ladder run` alone and beside a busy core: does ladder stay fast when the machine is shared?

    LADDER_DATA_DIR=../shared/data .venv/bin/python benchmarks/bench_contention.py [--repeat N] [--toys-only]

For each command (the toy parts `ladder run circles sine spirals --seeds 3`, and the full `ladder
run` with its five parts (part 5 came after issue 13), figures and report, `--out` a temporary
folder), each with the default policy (`--jobs auto`) and with the fixed serial policy (`--jobs
1`), this script times it alone, then beside a plain Python busy loop it starts itself (one other
process, one core busy), alternating, `--repeat` times, and prints the medians and the ratio
busy/alone. Target (issue 13): busy ≤ 1.2× alone. The busy process is always killed, Ctrl-C
included.
It exits 1 only when a command fails or a claim fails; a ratio over target is reported, not fatal.
"""

from __future__ import annotations

import argparse
import os
import sys

from common import BusyCore, machine_line, median, run_ladder, spread

TARGET = 1.2
TOYS = ["circles", "sine", "spirals", "--seeds", "3"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="alone/busy pairs per command (medians)")
    parser.add_argument("--toys-only", action="store_true", help="leave out the full run (MNIST)")
    args = parser.parse_args()

    commands = [("toys, --jobs auto", TOYS), ("toys, --jobs 1", TOYS + ["--jobs", "1"])]
    if not args.toys_only:
        commands += [("full run, --jobs auto", []), ("full run, --jobs 1", ["--jobs", "1"])]
    print(f"{machine_line()}; busy = one `while True: pass` process beside the command\n")

    failures, rows = [], []
    for label, command in commands:
        alone, busy, cpu = [], [], []
        for _ in range(args.repeat):
            for times, loaded in ((alone, False), (busy, True)):
                if loaded:
                    with BusyCore():
                        run = run_ladder(command)
                else:
                    run = run_ladder(command)
                times.append(run.seconds)
                cpu.append(run.cpu_seconds)
                if run.returncode != 0 or run.results is None:
                    failures.append(f"{label}{' (busy)' if loaded else ''}: exit {run.returncode}\n"
                                    f"{run.stderr[-2000:]}")
                failures += [f"{label}: claim failed: {c}" for c in run.failed_claims]
                print(f"  {label:24} {'busy ' if loaded else 'alone'} {run.seconds:6.1f} s  "
                      f"(cpu {run.cpu_seconds:.1f} s, load {os.getloadavg()[0]:.1f})", flush=True)
        rows.append((label, alone, busy))

    print(f"\n{'command':24} {'alone s':>8} {'busy s':>8} {'busy/alone':>11}  {'alone min–max':>13} "
          f"{'busy min–max':>13}  target ≤ {TARGET}×")
    for label, alone, busy in rows:
        ratio = median(busy) / median(alone)
        verdict = "yes" if ratio <= TARGET else "NO"
        print(f"{label:24} {median(alone):8.1f} {median(busy):8.1f} {ratio:10.2f}×  {spread(alone):>13} "
              f"{spread(busy):>13}  {verdict}")
    if failures:
        print("\nfailures:\n" + "\n".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
