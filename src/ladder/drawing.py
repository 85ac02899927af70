"""Drawing a run's figures on two cores: this process and one worker process share the list.

matplotlib holds the GIL while it draws, so a second thread would only wait; a second process
draws for real (the full run's 27 figures on a 2-core machine: 14.3-14.9 s alone, 9.7-10.4 s with
a second process). The worker, a ProcessPoolExecutor's one process, is spawned fresh; its
initializer reads the fitted runs from a temporary file (the full run's are 60 MB) and rebuilds
the list. Each process then takes the next figure nobody has taken, until none is left. A figure
the worker could not draw is drawn here again, raising here if it fails here too; if the worker
dies (BrokenProcessPool), this process draws what is left. `figures` (PyTorch, matplotlib:
seconds of imports) is imported where it is used: the worker sets Ctrl-C aside first.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import connection, get_context, parent_process
from pathlib import Path
from typing import Callable

from . import budget
from .atomic import pickled

#: Fewer figures than this (about 4-6 s of drawing) are drawn here alone: the worker's start-up
#: (its imports, 2.5-4 s of one core) would take as long.
MIN_FIGURES = 12

_figures: list = []  # in the worker: the run's figures, rebuilt once from the runs


def _read_runs(runs_file: str, jobs_of: Callable | None) -> None:
    """The worker's initializer: rebuild the figures from the pickled runs, then remove their file
    (on a tmpfs it holds memory): neither process keeps the pickle's bytes while it draws."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the run stops us
    threading.Thread(target=_end_with_the_run, daemon=True).start()
    from .figures import figure_jobs

    global _figures
    with open(runs_file, "rb") as f:
        _figures = (jobs_of or figure_jobs)(pickle.load(f))
    os.remove(runs_file)


def _end_with_the_run() -> None:
    """The pool's queues stay open in the worker: a killed run's worker would wait forever."""
    connection.wait([parent_process().sentinel])
    os._exit(1)


def _draw_there(index: int, folder: str) -> None:
    from .figures import draw_one

    with budget.threads(1):  # this process has the other core: one thread each
        draw_one(_figures[index], Path(folder))


@contextlib.contextmanager
def _worker(runs, jobs_of: Callable | None):
    """A pool of one worker process that reads `runs` as it starts; None where the runs cannot be
    pickled or no process can be had (too many open files): the worker only saves time."""
    with pickled(runs, "ladder-runs-") as runs_file:
        try:
            pool = runs_file and ProcessPoolExecutor(1, get_context("spawn"), _read_runs,
                                                     (str(runs_file), jobs_of))
        except OSError:
            pool = None
        with pool or contextlib.nullcontext():
            yield pool


def draw_figures(runs, folder: Path, on_drawn: Callable[[int], None] = lambda index: None,
                 helper: bool = False, jobs_of: Callable | None = None) -> set[int]:
    """Draw every figure of `jobs_of(runs)` (by default `figures.figure_jobs`) into `folder`, each
    once, calling `on_drawn(index)` after each (from a thread of this process); return the indices
    the worker drew. With `helper` and at least MIN_FIGURES figures, a worker process draws beside
    this one; `jobs_of` must then be importable by name: the worker rebuilds the list with it."""
    from .figures import draw_one, figure_jobs

    jobs = (jobs_of or figure_jobs)(runs)
    # Both processes take from the left (a deque's pops are thread-safe), each up to its None.
    todo, theirs, failed = deque([*range(len(jobs)), None, None]), set(), []

    def feed(pool) -> None:  # hands the worker the next figure each time it is free
        # BrokenProcessPool (it died), OSError (it could not start), RuntimeError or IndexError
        # (this process stopped early): what is left is drawn here.
        with contextlib.suppress(OSError, RuntimeError, IndexError):
            pool.submit(os.getpid).result()  # started, the runs read: meanwhile drawn here
            while (index := todo.popleft()) is not None:
                if (error := pool.submit(_draw_there, index, str(folder)).exception()) is None:
                    theirs.add(index)
                    on_drawn(index)
                    continue
                failed.append(index)  # drawn here again, which then raises the error itself
                if isinstance(error, BrokenProcessPool):
                    return

    with _worker(runs, jobs_of) if helper and len(jobs) >= MIN_FIGURES else contextlib.nullcontext() as pool:
        feeder = threading.Thread(target=feed, args=(pool,), daemon=True)
        if pool:
            feeder.start()
        try:
            with budget.threads(1):
                while (index := todo.popleft()) is not None:
                    draw_one(jobs[index], folder)
                    on_drawn(index)
                if pool:
                    feeder.join()
                for index in failed:
                    draw_one(jobs[index], folder)
                    on_drawn(index)
        finally:
            todo.clear()  # stopped early (a figure failed here, Ctrl-C): the worker takes no more
    return theirs

