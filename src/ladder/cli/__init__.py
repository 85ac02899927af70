"""The `ladder` command: the app, its one-line errors, and the commands' modules.

run.py runs experiments and rebuilds reports, explore.py lists what is built in and inspects
models, play.py starts the playground, data.py downloads datasets.
"""

from __future__ import annotations

import functools
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .. import __version__
from ..errors import LadderError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="ladder: why deep learning works, shown by real and measured experiments.")
# Off a terminal (CI logs, pipes) rich would assume 80 columns and wrap the tables.
console = Console(width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True)


def user_errors(command):
    """Print a user's mistake as one line and exit 2; an interrupt exits 130 having written nothing."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except LadderError as exc:
            errors.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            errors.print("interrupted; no results were written")
            raise typer.Exit(130) from None
    return wrapper


@app.callback(invoke_without_command=True)
def _version(version: Annotated[bool, typer.Option("--version", help="Print ladder's version.")] = False):
    if version:
        console.print(f"ladder {__version__}")
        raise typer.Exit()


def main():
    app()


# The commands register themselves on `app`, in the order `ladder --help` lists them.
from . import run, explore, play, data  # noqa: E402, F401
