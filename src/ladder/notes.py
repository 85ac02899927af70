"""The warnings a task raises, kept as its notes, even while other tasks run in other threads.

`warnings.catch_warnings` swaps process-wide state on entry and puts it back on exit, so two
threads whose blocks overlap undo each other (until Python 3.14): one task's warnings land in the
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
_installed: dict = {}  # while any thread records: "guard" (the catch_warnings) and "show" (stderr's)
_users = 0


def _show(message, category, filename, lineno, file=None, line=None):
    caught = getattr(_recording, "caught", None)
    if caught is None:  # a thread that is not recording: print as usual
        return _installed["show"](message, category, filename, lineno, file, line)
    caught.append(warnings.WarningMessage(message, category, filename, lineno, file, line))


def _install() -> None:
    global _users
    with _lock:
        if _users == 0:
            guard = warnings.catch_warnings()
            guard.__enter__()
            warnings.simplefilter("always")  # a warning seen before is still this task's note
            _installed.update(guard=guard, show=warnings.showwarning)
            warnings.showwarning = _show
        _users += 1


def _uninstall() -> None:
    global _users
    with _lock:
        _users -= 1
        if _users == 0:
            _installed.pop("guard").__exit__(None, None, None)
            _installed.clear()


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
