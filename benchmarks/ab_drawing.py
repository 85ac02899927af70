"""A/B of two versions of ladder on the full `ladder run --out`: wall clock and peak memory, alternated.

Each version is a commit (checked out into a temporary git worktree, removed at the end) or the
path of a checkout; both run with this environment's `ladder` script and packages, with the
version's own `src/` first on PYTHONPATH (the worker processes inherit it). The runs alternate,
A B A B A B by default, so a machine that gets busier meanwhile weighs on both alike. Each line
gives the wall clock, the command's CPU time, its own split (experiments, figures) and the peak
RSS summed over its process tree (sampled every 0.05 s, the same for both). Run it on a quiet
machine, with MNIST at hand:

    LADDER_DATA_DIR=../shared/data .venv/bin/python benchmarks/ab_drawing.py main drawing
    LADDER_DATA_DIR=../shared/data .venv/bin/python benchmarks/ab_drawing.py main HEAD --pairs 3 -- mnist
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import machine_line, run_ladder

REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def checkout(version: str):
    """The `src/` folder of `version`: a checkout's path, or a commit checked out for the block."""
    if Path(version, "src", "ladder").is_dir():
        yield Path(version, "src").resolve()
        return
    folder = Path(tempfile.mkdtemp(prefix="ab-drawing-")) / "tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(folder), version], check=True)
    try:
        yield folder / "src"
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(folder)], check=False)
        folder.parent.rmdir()


def environment(src: Path) -> dict:
    """This process's environment with `src` first on PYTHONPATH, checked to be what `ladder` imports."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")])))
    loaded = subprocess.run([sys.executable, "-c", "import ladder; print(ladder.__file__)"], env=env,
                            capture_output=True, text=True, check=True).stdout.strip()
    if not Path(loaded).is_relative_to(src):
        raise SystemExit(f"ladder is imported from {loaded}, not from {src}")
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="After --: what `ladder run` gets besides --out (default: nothing).")
    parser.add_argument("a", help="a commit (main, a hash) or the path of a checkout")
    parser.add_argument("b", help="the same, for the other version")
    parser.add_argument("--pairs", type=int, default=3, help="runs of each version, alternated (default 3)")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)  # after it: what `ladder run` gets besides --out
    options, ladder_args = parser.parse_args(argv[:cut]), argv[cut + 1:]
    print(machine_line())
    failed = False
    with checkout(options.a) as src_a, checkout(options.b) as src_b:
        envs = {options.a: environment(src_a), options.b: environment(src_b)}
        walls: dict[str, list[float]] = {name: [] for name in envs}
        for pair in range(options.pairs):
            for name, env in envs.items():
                run = run_ladder(ladder_args, env=env, timeout=1800, measure_memory=True)
                timings = (run.results or {}).get("timings", {})
                print(f"pair {pair + 1} {name:>12}: {run.seconds:6.1f} s wall, {run.cpu_seconds:6.1f} s cpu, "
                      f"experiments {timings.get('experiments', float('nan')):5.1f} s, figures "
                      f"{timings.get('figures', float('nan')):5.1f} s, peak RSS {run.peak_rss / 1e9:.2f} GB"
                      f"{'' if run.ok else '  FAILED: ' + (run.stderr.strip().splitlines() or ['?'])[-1]}",
                      flush=True)
                walls[name].append(run.seconds)
                failed |= not run.ok
    a, b = (statistics.median(walls[name]) for name in envs)
    print(f"median wall: {options.a} {a:.1f} s, {options.b} {b:.1f} s ({b / a - 1:+.1%})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
