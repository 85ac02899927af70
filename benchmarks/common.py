"""What the benchmarks share: running `ladder` as a user does, a busy core, peak memory of a process tree.

Not a benchmark itself. Linux-only where it reads /proc (memory); elsewhere memory is not measured.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


def ladder_command() -> list[str]:
    """The `ladder` script of this interpreter's environment (what a user types), else `python -m`."""
    script = Path(sys.executable).with_name("ladder")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ladder.cli"]


def cpu_note() -> str:
    """Why CPU seconds are printed beside wall clock."""
    return ("cpu s: the command's own user + system time, which other programs on the machine "
            "barely change; wall clock is what a user waits")


def machine_line() -> str:
    """Cores, load and CPU model: what every printed number depends on."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} cores ({model or 'unknown CPU'}), load {load:.2f}"


@dataclass
class Run:
    """One `ladder run …` command: wall clock, exit code, results.json, peak memory of its process tree."""
    seconds: float
    returncode: int
    results: dict | None
    stderr: str
    peak_rss: int = 0          # bytes: the largest sum of RSS over the command and its descendants
    peak_pss: int = 0          # bytes: the same with shared pages split among the processes
    cpu_seconds: float = 0.0   # user + system time of the command and the descendants it waited for
    failed_claims: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.results is not None and not self.failed_claims


def run_ladder(args: list[str], env: dict | None = None, timeout: float = 900,
               measure_memory: bool = False) -> Run:
    """`ladder run ARGS --out TMP` in a fresh process; results.json read back, claims checked."""
    with tempfile.TemporaryDirectory(prefix="bench-ladder-") as out:
        command = ladder_command() + ["run", *args, "--out", out]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True, env=env)
        sampler = TreeMemory(process.pid) if measure_memory else None
        try:
            _, stderr = process.communicate(timeout=timeout)
        except BaseException:  # a timeout or Ctrl-C: never leave the run behind
            process.kill()
            process.wait()
            raise
        finally:
            if sampler is not None:
                sampler.stop()
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        path = Path(out) / "results.json"
        results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    run = Run(seconds, process.returncode, results, stderr,
              cpu_seconds=after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if sampler is not None:
        run.peak_rss, run.peak_pss = sampler.peak_rss, sampler.peak_pss
    if results is not None:
        run.failed_claims = [f"{e['name']}: {c['check']} (value {c['value']})"
                             for e in results["experiments"] for c in e["claims"] if not c["holds"]]
    return run


# -- one busy core --------------------------------------------------------------------------------
class BusyCore:
    """A plain Python busy loop in its own process: one core kept busy, as another user's job would.

    A context manager: the process is killed on leaving the block, whatever happens (Ctrl-C too).
    """

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.3)  # let it be running (and seen as load) before the measured command starts
        return self

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()
        return False


# -- memory of a process tree ---------------------------------------------------------------------
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _children() -> dict[int, list[int]]:
    """parent pid → child pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += tree.get(p, [])
    return found


def _rss_pss(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes of one process; (0, 0) once it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            values = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f if line.endswith("kB\n")}
        return values.get("Rss", 0), values.get("Pss", 0)
    except (OSError, ValueError):
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as f:
                rss = int(f.read().split()[1]) * PAGE
            return rss, rss
        except (OSError, ValueError):
            return 0, 0


class TreeMemory:
    """Samples the summed RSS and PSS of a process and all its descendants (worker processes too)
    every `interval` seconds in a thread, keeping the peaks. RSS counts shared pages (the PyTorch
    libraries every worker maps) once per process, so its sum is the conservative number."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        if os.path.exists("/proc/self/stat"):
            self._thread.start()

    def _sample(self):
        while not self._stop.is_set():
            pids = _descendants(self.pid)
            sizes = [_rss_pss(p) for p in pids]
            self.peak_rss = max(self.peak_rss, sum(s[0] for s in sizes))
            self.peak_pss = max(self.peak_pss, sum(s[1] for s in sizes))
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """min–max of repeated timings, so the reader sees how noisy the machine was."""
    return f"{min(values):.1f}–{max(values):.1f}" if len(values) > 1 else "-"
