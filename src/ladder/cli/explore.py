"""`ladder list` and `ladder inspect`: what is built in, and a model layer by layer."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..errors import LadderError
from . import app, console, user_errors


@app.command("list")
@user_errors
def list_():
    """List the built-in experiments, datasets (with their parameters), feature maps and models."""
    from .. import experiments as exp
    from ..data import DATASETS
    from ..features import FEATURES
    from ..rungs import MODELS

    sections = {
        "experiments": [(n, exp.builtin_title(n)) for n in exp.builtin_names()],
        "datasets": [(n, f"[{fn.task}] {_first_line(fn)}  {_parameters(fn)}") for n, fn in DATASETS.items()],
        "feature maps": [(n, f"{_first_line(fn)}  {_parameters(fn)}") for n, fn in FEATURES.items()],
        "models": [(n, f"{desc} (backends: {', '.join(b)})") for n, (desc, _, b) in MODELS.items()],
    }
    for title, rows in sections.items():
        typer.echo(_two_columns(title, rows))


def _two_columns(title: str, rows: list[tuple[str, str]]) -> str:
    """A titled list of names and their descriptions, each wrapped to the terminal's width.

    Plain text, not a rich Table: drawing the four tables took longer than the rest of
    `ladder list` together, whose answer should be instant.
    """
    import shutil
    import textwrap

    indent = max(len(name) for name, _ in rows) + 2
    width = max(shutil.get_terminal_size((100, 24)).columns - indent, 30)
    lines = [title]
    for name, text in rows:
        wrapped = textwrap.wrap(text, width) or [""]
        lines.append(name.ljust(indent) + wrapped[0])
        lines += [" " * indent + more for more in wrapped[1:]]
    return "\n".join(lines) + "\n"


def _first_line(fn) -> str:
    return (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""


def _parameters(fn) -> str:
    """A function's parameters with their defaults, as a spec would write them: (n=1000, noise=0.1)."""
    import inspect

    shown = [f"{p.name}={p.default!r}" if p.default is not inspect.Parameter.empty else p.name
             for p in inspect.signature(fn).parameters.values()]
    return f"({', '.join(shown)})" if shown else ""


INSPECT_EXAMPLES = """\b
Examples:
  ladder inspect mnist:cnn                     # the CNN of part 4, layer by layer: 206,922
  ladder inspect spirals:mlp                   # a rung of a built-in or your own experiment
  ladder inspect mlp --param hidden=[128] --inputs 28x28 --outputs 10
"""


@app.command(epilog=INSPECT_EXAMPLES)
@user_errors
def inspect(
    model: Annotated[str, typer.Argument(
        help="A rung as EXPERIMENT:RUNG (mnist:cnn, my_ladder.toml:mlp) or a model kind "
             "(linear, stacked_linear, mlp, cnn, cnn1d).", show_default=False)],
    param: Annotated[Optional[list[str]], typer.Option(
        help="A model parameter as KEY=VALUE in TOML, e.g. hidden=[64,64] (model kinds only).",
        show_default=False)] = None,
    inputs: Annotated[Optional[str], typer.Option(
        help="One input's shape: 784 or 28x28 (model kinds only; default 28x28 for cnn, else 2).",
        show_default=False)] = None,
    outputs: Annotated[Optional[int], typer.Option(
        help="How many outputs (model kinds only; default 10 for images, else 1).", show_default=False)] = None,
):
    """Print each layer's output shape and its parameter arithmetic, the way the course counts them."""
    from ..anatomy import layers, module_for, rich_table

    module, in_shape, title = module_for(model, _toml_params(param or []), _shape(inputs), outputs)
    console.print(rich_table(layers(module, in_shape), title))


def _toml_params(pairs: list[str]) -> dict:
    import tomllib

    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            params[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except (ValueError, tomllib.TOMLDecodeError):
            raise LadderError(f"--param {pair!r}: write KEY=VALUE with a TOML value, "
                              f"e.g. hidden=[64,64] or activation=\"tanh\"") from None
    return params


def _shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    parts = text.lower().replace("×", "x").split("x")
    if not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise LadderError(f"--inputs {text!r}: give one input's shape as N or HxW, e.g. 784 or 28x28")
    return tuple(int(p) for p in parts)
