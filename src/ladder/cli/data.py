"""`ladder data fetch`: download a dataset, every file checked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import LadderError
from ..progress import DownloadBar
from . import app, console, errors, user_errors


data_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Get the datasets that are downloaded.")
app.add_typer(data_app, name="data")


@data_app.command("fetch")
@user_errors
def fetch(
    name: Annotated[str, typer.Argument(help="The dataset to download: mnist.")],
    data_dir: Annotated[Optional[Path], typer.Option(
        help="Download into DATA_DIR/mnist instead of ladder's cache.")] = None,
):
    """Download a dataset, check every file's hash, and say where it is."""
    from ..data.images import fetch_mnist, find_mnist, load_mnist

    if name != "mnist":
        raise LadderError(f"cannot fetch {name!r}: mnist is the only downloaded dataset "
                          f"(the others are generated on the fly)")
    found = find_mnist(data_dir)
    if found is not None:
        load_mnist(data_dir, download=False)  # checks every file's header and hash
        console.print(f"MNIST is already here, checked: {found}")
        return
    folder = fetch_mnist(data_dir, progress=lambda name: DownloadBar(name, errors.rich))
    console.print(f"MNIST is ready in {folder}")
