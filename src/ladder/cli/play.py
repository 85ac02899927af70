"""`ladder play`: the live playground in the browser."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import LadderError
from . import app, console, user_errors


@app.command()
@user_errors
def play(
    browser: Annotated[bool, typer.Option(help="Open the page in the default browser.")] = True,
    host: Annotated[str, typer.Option(help="Address to listen on; 127.0.0.1 keeps it on this machine.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8642,
    models: Annotated[Optional[Path], typer.Option(
        help="A run folder (ladder run mnist --out DIR) whose MNIST models the digit tab uses; "
             "without it they are trained once and cached.")] = None,
):
    """A live playground in the browser: train small networks on 2-D data, draw digits."""
    if models is not None and not models.is_dir():
        raise LadderError(f"--models {models}: no such folder; give a folder written by `ladder run --out`")
    from ..play.server import listen, serve

    try:
        sock = listen(host, port)
    except OSError as exc:
        raise LadderError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc}); "
                          f"choose another --port") from None
    serve(sock, host, models, browser, console.rich)
