"""Part 6's speed: `ladder run mnist1d --seeds 3`, and what part 6 adds to the full `ladder run`.

    LADDER_DATA_DIR=../shared/data .venv/bin/python benchmarks/bench_mnist1d.py [--repeat N]

1. `ladder run mnist1d --seeds 3 --out TMP` in a fresh process, `--repeat` times (figures,
   weights and report.html included). Target (issue 34, 2-core machine): ≤ 30 s.
2. The full `ladder run --out TMP` (part 6 in it) against the same run without part 6
   (`ladder run circles sine spirals mnist mnist-shift`), alternated `--repeat` times so a busy
   moment hits both. Target: part 6 adds ≤ 20 s.
The signals are made once before anything is timed (as on any run after a user's first; the
first one makes them, which is printed too). Exits 1 when a command or a claim fails; being over
a target is reported, not fatal (the machine may be busy: see the load printed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from common import cpu_note, machine_line, median, run_ladder, spread

PART6_S = 30.0
GROWTH_S = 20.0
WITHOUT_PART6 = ["circles", "sine", "spirals", "mnist", "mnist-shift"]


def make_signals() -> float:
    """Seconds to make the canonical signals into an empty cache, in a fresh process."""
    import subprocess

    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from ladder.data import load; load('mnist1d')"], check=True,
                       env={**os.environ, "XDG_CACHE_HOME": cache})
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(machine_line())
    print(f"making the signals into an empty cache (a fresh process, imports included): "
          f"{make_signals():.1f} s")
    from ladder.data import load

    load("mnist1d")  # into this user's cache, as any run after the first finds them
    failures = []

    def timed(label, run_args):
        run = run_ladder(run_args)
        print(f"  {label:44} {run.seconds:6.1f} s  cpu {run.cpu_seconds:6.1f} s", flush=True)
        if run.returncode != 0 or run.results is None:
            failures.append(f"{label}: exit {run.returncode}\n{run.stderr[-2000:]}")
        failures.extend(f"{label}: claim failed: {c}" for c in run.failed_claims)
        return run.seconds

    part6 = [timed("ladder run mnist1d --seeds 3", ["mnist1d", "--seeds", "3"]) for _ in range(args.repeat)]
    full, without = [], []
    for _ in range(args.repeat):
        full.append(timed("ladder run (part 6 in it)", []))
        without.append(timed("ladder run " + " ".join(WITHOUT_PART6), WITHOUT_PART6))
    growth = median(full) - median(without)
    print(f"\n{cpu_note()}")
    print(f"ladder run mnist1d --seeds 3: median {median(part6):.1f} s, {spread(part6)} (target ≤ {PART6_S:.0f} s: "
          f"{'yes' if median(part6) <= PART6_S else 'NO'})")
    print(f"the full run: median {median(full):.1f} s ({spread(full)}), without part 6 {median(without):.1f} s "
          f"({spread(without)}): part 6 adds {growth:.1f} s "
          f"(target ≤ {GROWTH_S:.0f} s: {'yes' if growth <= GROWTH_S else 'NO'})")
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
