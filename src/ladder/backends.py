"""Backends: execute a list of pure tasks (one rung fitted with one seed) and hand back the results.

The runner builds the tasks and assembles the records; a backend only executes. `serial` runs
them one after another in this process (the progress bar follows every epoch); `local` runs them
in worker processes, each task with its share of the compute budget (the bar follows tasks).
Same tasks, same numbers, whichever backend: every task seeds itself.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Iterator

from . import budget


@dataclass(frozen=True)
class Task:
    """Fit `rung` of the run's experiment number `experiment` with `seed` (and score its probes)."""
    experiment: int
    rung: object  # a RungSpec
    seed: int
    probes: object = None  # the experiment's ProbeSpec, if it has one


def run_serial(tasks: list[Task], datasets: list, device: str, listener) -> Iterator[tuple[Task, object]]:
    """Each task in turn, in this process; yields (task, RungRun) as each finishes."""
    from .runner import run_rung

    for task in tasks:
        epochs = task.rung.train.epochs if task.rung.train else None
        listener.rung_started(task.rung.name, task.seed, epochs)
        result = run_rung(task.rung, datasets[task.experiment], task.seed, device, listener, task.probes)
        listener.rung_done(task.rung.name, task.seed, result)
        yield task, result


# -- worker processes ---------------------------------------------------------------------------
_worker_datasets: list = []


def _start_worker(datasets: list, threads: int) -> None:
    """Runs once in each worker: keep the datasets (sent once, not once per task) and the budget."""
    global _worker_datasets
    _worker_datasets = datasets
    budget.set_cap(threads)


def _run_task(task: Task, device: str):
    from .runner import run_rung

    return run_rung(task.rung, _worker_datasets[task.experiment], task.seed, device, probes=task.probes)


def _context():
    # forkserver: workers are forked from a clean server that has imported ladder once, so they
    # start in well under a second and inherit no threads (a fork of a process that already ran
    # OpenMP or a progress bar's thread can hang). Elsewhere (macOS, Windows) spawn is all there is.
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["ladder.runner"])
        return ctx
    return multiprocessing.get_context("spawn")


def run_local(tasks: list[Task], datasets: list, device: str, listener, jobs: int,
              threads: int) -> Iterator[tuple[Task, object]]:
    """Tasks in `jobs` worker processes with `threads` threads each; yields (task, RungRun) as each ends.

    On Ctrl-C or an error the pending tasks are cancelled and the workers stopped.
    """
    with ProcessPoolExecutor(max_workers=jobs, mp_context=_context(), initializer=_start_worker,
                             initargs=(datasets, threads)) as pool:
        pending = {pool.submit(_run_task, task, device): task for task in tasks}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    result = future.result()
                    listener.rung_started(task.rung.name, task.seed, None)
                    listener.rung_done(task.rung.name, task.seed, result)
                    yield task, result
        except BaseException:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


BACKENDS = ("serial", "local")


def execute(tasks: list[Task], datasets: list, device: str, listener, jobs: int = 1,
            threads: int | None = None) -> Iterator[tuple[Task, object]]:
    """Run `tasks` with `jobs` parallel workers (1: serially, in this process)."""
    if jobs <= 1 or len(tasks) <= 1:
        yield from run_serial(tasks, datasets, device, listener)
    else:
        yield from run_local(tasks, datasets, device, listener, jobs, threads or 1)
