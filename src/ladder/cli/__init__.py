"""The `ladder` command: the app, its one-line errors, and the commands' modules.

run.py runs experiments and rebuilds reports, explore.py lists what is built in and inspects
models, play.py starts the playground, data.py downloads datasets.
"""

from __future__ import annotations

import atexit
import functools
import os
import sys
from typing import Annotated

import typer

from .. import __version__
from ..errors import LadderError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="ladder: why deep learning works, shown by real and measured experiments.")


def escape(text: str) -> str:
    """rich's markup escaped in `text` (rich.markup is imported here, when something is printed)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


class LazyConsole:
    """A rich Console made when first used: importing rich.console takes about 50 ms, a sixth of
    what `ladder --help` may take, and help never prints through it. Its methods are the
    Console's; `.rich` is the Console itself, for rich's own classes (a progress bar's console)."""

    def __init__(self, **options):
        self._options, self._console = options, None

    @property
    def rich(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name):
        return getattr(self.rich, name)


# Off a terminal (CI logs, pipes) rich would assume 80 columns and wrap the tables.
console = LazyConsole(width=None if sys.stdout.isatty() else 120)
errors = LazyConsole(stderr=True)


def user_errors(command):
    """Print a user's mistake as one line and exit 2; an interrupt exits 130 having written nothing."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except LadderError as exc:
            errors.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            _exit(2)
        except KeyboardInterrupt:
            errors.print("interrupted; no results were written")
            _exit(130)
    return wrapper


def _exit(code: int):
    """Exit with `code`. Where fits are still under way in threads of this process (a run on
    images stopped early), leave at once: on its way out Python would stop those threads inside
    PyTorch's C++ code, and the process would abort instead of exiting with `code`."""
    from ..executors import tasks_running

    if tasks_running():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise typer.Exit(code) from None


@app.callback(invoke_without_command=True)
def _version(version: Annotated[bool, typer.Option("--version", help="Print ladder's version.")] = False):
    if version:
        console.print(f"ladder {__version__}")
        raise typer.Exit()


def main():
    """The `ladder` command: the app, then a quick way out (see `_leave`)."""
    try:
        app()
        code = 0
    except SystemExit as exc:  # click ends every command, help included, with sys.exit
        code = exc.code
    _leave(code)


def _leave(code) -> None:
    """Exit with `code`, without tearing the interpreter down once PyTorch is loaded.

    After a command that imported PyTorch, Python's own shutdown (freeing every module's objects
    one by one) took 1.2 s after the last line was printed (measured on a 2-core machine; the
    atexit functions took 0.01 s of it): a wait on every `ladder run`, for nothing a user sees.
    So the atexit functions run (a local Ray is stopped, multiprocessing's helpers end), the
    output is flushed, and the process ends there. Where a non-daemon thread still runs, Python
    must wait for it: then the exit is the usual one.
    """
    import threading

    # No public API runs the atexit functions before exit: a Python without this private name
    # (it is there in 3.11-3.13) exits the usual way (tests/test_cli.py runs both ways).
    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if "torch" not in sys.modules or others or run_exit_functions is None:
        sys.exit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, exit status 1, as Python does
        print(code, file=sys.stderr)
        code = 1
    from ..executors import stop_worker_server

    stop_worker_server()  # before the atexit functions, which remove its socket's folder
    run_exit_functions()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# The commands register themselves on `app`, in the order `ladder --help` lists them.
from . import run, explore, play, data  # noqa: E402, F401
