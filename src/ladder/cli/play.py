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
    experiment: Annotated[Optional[str], typer.Option(
        help="Open the page on one rung of an experiment: FILE.toml:RUNG, or a built-in's NAME:RUNG "
             "such as circles:mlp (its data, φ and network).", show_default=False)] = None,
):
    """A live playground in the browser: train small networks on 2-D data, draw digits."""
    if models is not None and not models.is_dir():
        raise LadderError(f"--models {models}: no such folder; give a folder written by `ladder run --out`")
    opening = _opening(experiment) if experiment is not None else None
    from ..play.server import listen, serve

    try:
        sock = listen(host, port)
    except OSError as exc:
        raise LadderError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc}); "
                          f"choose another --port") from None
    serve(sock, host, models, browser, console.rich, opening)


def _opening(target: str) -> dict:
    """The page's settings for `EXPERIMENT:RUNG`, and notes on what the page does otherwise; a
    LadderError says why the page cannot show that rung."""
    from .. import experiments
    from ..play.export import ExportError, settings_of

    name, _, rung = target.rpartition(":")
    if not name or not rung:
        raise LadderError(f"--experiment {target}: write EXPERIMENT:RUNG, e.g. circles:mlp or my.toml:net")
    spec = experiments.resolve(name)
    try:
        settings, notes = settings_of(spec, rung)
    except ExportError as exc:
        raise LadderError(f"--experiment {target}: {exc}") from None
    return {"settings": settings, "experiment": {"name": target, "notes": notes}}
