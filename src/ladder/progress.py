"""The terminal's progress bars: a run's rungs and epochs, and downloads.

rich.progress is imported where a bar is made, not here: `ladder --help` should not pay for it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


class ProgressListener:
    """Rich progress bars: rung × seed tasks done, and each running rung's epochs where the loop
    reports them (in this process: one bar at a time when run serially, one per thread when a
    run on images runs its jobs in threads)."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.overall = progress.add_task("rungs × seeds", total=0)
        self.epochs: dict[int, object] = {}  # thread → the bar of the rung it is fitting
        self.notes: set[str] = set()  # the dataset notes already printed

    def experiment_started(self, spec, dataset, n_tasks):
        self.progress.update(self.overall, total=self.progress.tasks[0].total + n_tasks)
        if dataset.note and dataset.note not in self.notes:  # experiments may share a dataset
            self.notes.add(dataset.note)
            self.progress.console.print(f"[yellow]note:[/] {dataset.note}", highlight=False)

    def rung_started(self, rung, seed, epochs):
        if epochs:  # a bar of epochs only where the loop reports them (in this process)
            self.epochs[threading.get_ident()] = self.progress.add_task(f"  {rung} seed {seed}", total=epochs)

    def epoch_done(self, epoch, history):
        task = self.epochs.get(threading.get_ident())
        if task is not None:
            self.progress.update(task, completed=epoch + 1)

    def rung_done(self, rung, seed, record):
        self.progress.update(self.overall, advance=1)
        task = self.epochs.pop(threading.get_ident(), None)
        if task is not None:
            self.progress.remove_task(task)


def bars(console: Console) -> Progress:
    """Bars that vanish when done, so the tables that follow stand alone."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


class DownloadBar:
    """A rich download bar with the protocol pooch drives (total, update, reset, close).

    It appears only once the server answers (pooch then sets `total`), so a mirror that fails
    leaves nothing on the screen.
    """

    def __init__(self, description: str, console: Console | None = None):
        self.description = description
        self.console = console
        self._progress = None

    @property
    def total(self):
        return self._progress.tasks[0].total if self._progress else None

    @total.setter
    def total(self, value):
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                  DownloadColumn(), TransferSpeedColumn(), console=self.console)
        self._task = self._progress.add_task(self.description, total=value or None)
        self._progress.start()

    def update(self, n: int):
        self._progress.advance(self._task, n)

    def reset(self):
        self._progress.reset(self._task)

    def close(self):
        if self._progress:
            self._progress.stop()
