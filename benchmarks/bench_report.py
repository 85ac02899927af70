"""What the figures and the HTML report add to `ladder run`, measured in the same run.

    LADDER_DATA_DIR=../shared/data .venv/bin/python benchmarks/bench_report.py [EXPERIMENT …]

Runs `ladder run … --out TMP` (default: the whole progression), times the whole command and reads
the timings it records: drawing and saving every figure (with the trained weights) and writing
report.html. What they add is compared with the rest of the same command, which is what
`ladder run` costs without them (start-up, loading, training, scoring). Target: at most 25%.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(experiments: list[str]) -> int:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ladder.cli", "run", *experiments, "--out", out],
                       check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        results = json.loads((Path(out) / "results.json").read_text())
        n_figures = len(results["figures"]) + sum(len(e["figures"]) for e in results["experiments"])
        size = (Path(out) / "report.html").stat().st_size
    timings = results["timings"]
    added = timings["figures"] + timings["report"]
    share = added / (wall - added)
    print(f"experiments (train + score): {timings['experiments']:7.1f} s")
    print(f"figures ({n_figures}) + weights:      {timings['figures']:7.1f} s")
    print(f"report.html ({size / 1e6:.1f} MB):        {timings['report']:7.1f} s")
    print(f"whole command, start-up included: {wall:5.1f} s ({wall - added:.1f} s without figures and report)")
    print(f"figures + report add {share:.0%} to the run (target ≤ 25%: {'yes' if share <= 0.25 else 'NO'})")
    return 0 if share <= 0.25 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
