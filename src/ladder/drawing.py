"""Drawing a run's figures on two cores: this process and a helper process share one list.

matplotlib holds the GIL while it draws, so a second thread would only wait (and starve a t-SNE
running beside it); a second process draws for real. The helper is spawned fresh, so it shares
no memory or threads with this process. It reads the fitted runs from a temporary file (the
full run's pickle is 60 MB), rebuilds the same list of figures from them, and each process takes
the next figure nobody has taken until none is left (measured on the 2-core reference machine,
the full run's 27 figures: 14.3-14.9 s alone, 9.7-10.4 s with a helper started for them).

The helper's imports take 2.5-4 s of one core. `ladder run` on images starts it first thing
(`helper_started`), so they use the core that is idle while this process imports and loads the
data, and it draws from the first figure on (measured on a 2-core AMX machine, 2 pairs: the full
run 1.0-1.7 s faster, its figures 5.1-5.2 s instead of 6.4 s). Meanwhile it holds about 0.42 GB
(PyTorch and scikit-learn), so it holds nothing it does not need, and the runs come in a file
(its pipe carries only the file's name): neither process then keeps the pickle's bytes while it
draws.

A figure drawn from the data alone (the t-SNE of the digits: 2.7 s of the full run's 9.5 s of
drawing) is asked of a helper started early as soon as the data is loaded (`Helper.prepare`): it draws
it while the models train, in the moments the tasks' two threads leave a core idle (waiting on
each other's GIL, a fit ending) or beside them, and this process leaves that figure to it
(measured at nice 19, 2 pairs each: the full run's figures 5.0-5.1 s -> 3.4-3.5 s, its
experiments 0.7-1.3 s slower, the run 0.4-0.8 s faster by its own clock; `ladder run mnist`
0.4-1.4 s faster, and the same at nice 0; the same PNG bytes).

A figure the helper could not draw is drawn here again, and raises here if it fails here too; if
the helper dies, this process draws what it left.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import queue
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Callable

from . import budget
from .atomic import held, remove_abandoned

#: Fewer figures than this (about 4-6 s of drawing) are drawn here alone: the helper's own
#: start-up would take as long.
MIN_FIGURES = 12


def _take(counter) -> int:
    """The index of the next figure nobody has taken (the counter is shared by both processes)."""
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    return index


def _helper(inbox, counter, done) -> None:
    """The helper process: import what drawing needs, draw the figures asked for early while the
    models train, wait for the runs, then draw until no figure is left."""
    # A Ctrl-C reaches every process of the terminal's group: the run stops its helper itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from .atomic import write_atomic
    from .figures import dataset_figure, draw_one, figure_jobs, file_name, render

    early: dict[tuple[str, str], bytes | None] = {}  # drawn before the runs came; None: it failed
    while True:
        try:
            message = inbox.recv()
        except EOFError:  # the run ended before its figures (a failure, Ctrl-C, or its process died)
            return
        if message[0] != "prepare":
            break
        # At the same priority as the tasks: at nice 19 it was no faster (ladder run mnist 15.6,
        # 15.1 s against 15.6, 15.6 s), and a machine that got busy meanwhile could starve it
        # while the run waited for this figure.
        with budget.threads(1):
            for experiment, slug, data in message[1]:
                try:
                    early[experiment, slug] = render(lambda: dataset_figure(slug, data))
                except Exception:  # drawn again by the parent, which then raises the error itself
                    early[experiment, slug] = None
    _, runs_file, folder, jobs_of = message
    with open(runs_file, "rb") as f:
        jobs = (jobs_of or figure_jobs)(pickle.load(f))
    Path(runs_file).unlink(missing_ok=True)  # read: not left in the temporary folder while it draws
    ours = {index for index, job in enumerate(jobs) if (job[0], job[1]) in early}
    for index in sorted(ours):
        png = early[jobs[index][0], jobs[index][1]]
        if png is not None:
            write_atomic(Path(folder) / file_name(jobs[index]), png)
        done.put((index, png is not None))
    with budget.threads(1):  # this process has the other core: one thread each
        while (index := _take(counter)) < len(jobs):
            if index in ours:
                continue
            try:
                draw_one(jobs[index], Path(folder))
                done.put((index, True))
            except Exception:  # drawn again by the parent, which then raises the error itself
                done.put((index, False))


@contextlib.contextmanager
def _pickled(runs):
    """The runs pickled into a file in a fresh temporary folder for the helper, removed at the end
    of the block; None when that cannot be done.

    A file, not bytes sent through a pipe: neither process then holds the pickle (60 MB for the
    full run) while it draws, which kept the full run's peak memory over 1.5 GB (the helper removes
    the file once it has read it: on a tmpfs it holds memory too). The lock that marks it in use is
    on its folder, so it does not keep the removed file's memory. Runs that cannot be pickled (a
    model of the user's own making) or a temporary folder that cannot take them (full, missing or
    not writable) leave the figures to this process alone: the helper only saves time.
    """
    try:
        remove_abandoned(tempfile.gettempdir(), "ladder-runs-")  # left by a killed run
        folder = Path(tempfile.mkdtemp(prefix="ladder-runs-"))
    except OSError:
        yield None
        return
    try:
        with held(folder):
            path = folder / "runs.pickle"
            try:
                with open(path, "wb") as handle:
                    pickle.dump(runs, handle, protocol=pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, TypeError, AttributeError, OSError):
                path.unlink(missing_ok=True)  # a partial pickle goes at once
                yield None
                return
            yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Helper:
    """The helper process. It starts by importing what drawing needs (about 2.5 s of one core),
    draws what `prepare` asks of it early, then waits for `give` to hand it the pickled runs and
    the folder to draw into.

    Started at the beginning of a run on images (`ladder run` does), its imports use the core that
    is idle while this process imports and loads the data, and it draws from the first figure on.
    Started when the figures begin, its imports came out of the figures' time; started as a run's
    tasks were ending, they came out of the tasks' time and the figures were no faster (measured
    on the reference machine).
    """

    def __init__(self):
        ctx = multiprocessing.get_context("spawn")  # a fork would inherit this process's threads
        self.counter, self.done = ctx.Value("i", 0), ctx.Queue()
        # A one-way pipe, not a queue: the helper holds only its reading end, so it sees the end
        # of the file (and quits) when this process closes the other end or dies.
        inbox, self._outbox = ctx.Pipe(duplex=False)
        self.prepared: set[tuple[str, str]] = set()  # (experiment, slug) it was asked to draw early
        self.process = ctx.Process(target=_helper, name="ladder-figures", daemon=True,
                                   args=(inbox, self.counter, self.done))
        try:
            self.process.start()
        finally:
            inbox.close()

    def prepare(self, figures: list[tuple[str, str, object]]) -> None:
        """Have the helper draw now, while the models train, the figures that need only data:
        (experiment name, slug, data) each, as `figures.dataset_figures` lists them. They are
        then the helper's: this process leaves them to it, unless it dies."""
        if not figures:
            return
        try:
            self._outbox.send(("prepare", figures))
        except OSError:  # it died: this process will draw everything
            return
        self.prepared |= {(experiment, slug) for experiment, slug, _ in figures}

    def give(self, runs_file: Path, folder: Path, jobs_of: Callable | None = None) -> None:
        """Set the helper drawing the figures of the runs pickled in `runs_file` into `folder`."""
        self._outbox.send(("draw", str(runs_file), str(folder), jobs_of))

    def stop(self) -> None:
        """End the helper, at once if it is still drawing, and free what it shared with this process."""
        self._outbox.close()
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        if self.done is not None:
            # Their semaphores are removed when the last reference to them goes, so this drops
            # the helper's own (the process object dropped its arguments when it started). A run
            # interrupted while fits run in threads leaves by os._exit, with no clean-up: they
            # were reported as leaked.
            self.done.close()
            self.done.join_thread()
            self.counter = self.done = None


@contextlib.contextmanager
def helper_started(start: bool):
    """A Helper started now (None without `start`, or where no process can be had), stopped at
    the end of the block however the block ends."""
    try:
        helper = Helper() if start else None
    except OSError:  # no process to be had (too many processes or open files)
        helper = None
    try:
        yield helper
    finally:
        if helper is not None:
            helper.stop()


def draw_figures(runs, folder: Path, on_drawn: Callable[[int], None] = lambda index: None,
                 helper: "bool | Helper" = False, jobs_of: Callable | None = None) -> set[int]:
    """Draw every figure of `jobs_of(runs)` (by default `figures.figure_jobs`) into `folder`, each
    once, calling `on_drawn(index)` after each; return the indices the helper process drew.

    With `helper` True and at least MIN_FIGURES figures, a helper process is started and draws
    some of them; a Helper already started (its imports done or under way) draws beside this one
    whenever there are two figures or more. `jobs_of` must be importable by name: the helper
    rebuilds the list with it. A given Helper is stopped here, used or not.
    """
    from .figures import figure_jobs

    started = None if isinstance(helper, bool) else helper  # a Helper already started
    try:
        jobs = (jobs_of or figure_jobs)(runs)
        if not helper or len(jobs) < (2 if started else MIN_FIGURES):
            return _draw_here(jobs, folder, on_drawn)
        with _pickled(runs) as runs_file:
            if runs_file is None:
                return _draw_here(jobs, folder, on_drawn)
            try:
                beside = started or Helper()
            except OSError:  # no process to be had (too many processes or open files)
                return _draw_here(jobs, folder, on_drawn)
            try:
                beside.give(runs_file, folder, jobs_of)
            except OSError:  # it died meanwhile (the out-of-memory killer, say): its pipe is closed
                beside.stop()
                return _draw_here(jobs, folder, on_drawn)
            return _draw_beside_helper(jobs, folder, on_drawn, beside)
    finally:
        if started is not None:
            started.stop()


def _draw_here(jobs: list, folder: Path, on_drawn: Callable[[int], None]) -> set[int]:
    """Draw every figure in this process, one after another."""
    from .figures import draw_one

    for index, job in enumerate(jobs):
        draw_one(job, folder)
        on_drawn(index)
    return set()


def _draw_beside_helper(jobs: list, folder: Path, on_drawn: Callable[[int], None],
                        helper: Helper) -> set[int]:
    """Draw `jobs` here, taking turns with `helper`; return the indices the helper drew."""
    from .figures import draw_one

    counter, done, process = helper.counter, helper.done, helper.process
    theirs = {index for index, job in enumerate(jobs) if (job[0], job[1]) in helper.prepared}
    drawn: set[int] = set()
    by_helper: set[int] = set()

    def finish(index: int, redraw: bool) -> None:
        if redraw:  # the helper failed at it, or died: drawn here, raising here if it fails here too
            draw_one(jobs[index], folder)
        drawn.add(index)
        on_drawn(index)

    def collect(timeout: float | None = None) -> bool:
        """Take in one figure the helper reports; False when it has reported none."""
        try:
            index, drawn_there = done.get(timeout=timeout) if timeout else done.get_nowait()
        except queue.Empty:
            return False
        if drawn_there:
            by_helper.add(index)
        finish(index, redraw=not drawn_there)
        return True

    try:
        with budget.threads(1):
            while (index := _take(counter)) < len(jobs):
                if index in theirs:  # drawn already, or being drawn, by the helper
                    continue
                draw_one(jobs[index], folder)
                finish(index, redraw=False)
                while collect():
                    pass
            while len(drawn) < len(jobs):
                if not collect(timeout=0.5) and not process.is_alive():
                    while collect():
                        pass
                    for index in sorted(set(range(len(jobs))) - drawn):
                        finish(index, redraw=True)
    finally:
        helper.stop()
    return by_helper


def draw_all(runs, folder: Path, on_figure: Callable[[str], None] = lambda title: None,
             helper=False) -> tuple[dict[str, list[dict]], list[dict]]:
    """Draw and save every figure of every run into `folder`; return what was drawn.

    Returns (experiment name → its figures, the run-level figures), each figure as
    {"file": "<folder name>/<file>.png", "title": …}. `on_figure(title)` is called after each.
    With `helper` (True, or a `drawing.Helper` already started), a second process draws some of
    them on another core (`drawing.draw_figures`); the calling script must then keep its work
    under `if __name__ == "__main__":`, as any script that starts processes with "spawn".
    """
    from .figures import figure_jobs, file_name

    folder.mkdir(parents=True, exist_ok=True)
    jobs = figure_jobs(runs)
    draw_figures(runs, folder, lambda index: on_figure(jobs[index][2]), helper)
    per_experiment: dict[str, list[dict]] = {run.record["name"]: [] for run in runs}
    summary: list[dict] = []
    for job in jobs:
        entry = {"file": f"{folder.name}/{file_name(job)}", "title": job[2]}
        (per_experiment[job[0]] if job[0] else summary).append(entry)
    return per_experiment, summary
