"""The warnings a task raises, kept as its notes, even while other tasks run in other threads.

`warnings.catch_warnings` swaps process-wide state on entry and puts it back on exit, so two
threads whose blocks overlap undo each other (Python 3.11-3.13): one task's warnings land in the
other's list, or on stderr, and the last to leave restores a state that is no longer current.
Here the process-wide hook is installed once, while any thread records, and each thread keeps a
list of its own.
"""

from __future__ import annotations

import threading
import warnings
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_recording = threading.local()  # .caught: this thread's list, while it records
_users = 0  # threads recording now
_guard: warnings.catch_warnings | None = None  # the process-wide state, saved while any thread records
_show_elsewhere = warnings.showwarning  # how warnings of the other threads are shown


def _show(message, category, filename, lineno, file=None, line=None):
    caught = getattr(_recording, "caught", None)
    if caught is None:  # a thread that is not recording: shown as it would have been
        return _show_elsewhere(message, category, filename, lineno, file, line)
    caught.append(warnings.WarningMessage(message, category, filename, lineno, file, line))


def _install() -> None:
    global _users, _guard, _show_elsewhere
    with _lock:
        if _users == 0:
            _guard = warnings.catch_warnings()
            _guard.__enter__()
            warnings.simplefilter("always")  # a warning seen before is still this task's note
            _show_elsewhere, warnings.showwarning = warnings.showwarning, _show
        _users += 1


def _uninstall() -> None:
    global _users, _guard
    with _lock:
        _users -= 1
        if _users == 0:
            _guard.__exit__(None, None, None)
            _guard = None


@contextmanager
def caught_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Every warning raised in this thread within the block, in order (like catch_warnings(record=True))."""
    _install()
    outer = getattr(_recording, "caught", None)
    _recording.caught = caught = []
    try:
        yield caught
    finally:
        _recording.caught = outer
        _uninstall()


def first_lines(caught: list[warnings.WarningMessage]) -> list[str]:
    """Each distinct warning once, as its first line: "lbfgs failed to converge after 20 iteration(s)"."""
    return list(dict.fromkeys(str(w.message).strip().splitlines()[0].rstrip(":") for w in caught))
