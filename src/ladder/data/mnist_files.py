"""The four MNIST files: where they are looked for, how each is checked, and how they are downloaded.

Where, in order: 1. the `data_dir` argument, 2. `$LADDER_DATA_DIR`, 3. ladder's download cache
(`cache_dir()`); inside each, `mnist/` (the course copy's layout), the folder itself, and
`MNIST/raw/` (torchvision's layout, so an existing torchvision download is reused). Each file may
be gzip-compressed (`.gz`) or not, and is checked against the SHA-256 of its *decompressed*
content, so a copy recompressed by someone else is still recognised as good.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit

from ..atomic import held, remove_abandoned
from ..errors import LadderError
from .idx import IdxError, read_idx_file

if TYPE_CHECKING:  # arrays come from idx.py: `ladder list` never needs numpy
    import numpy as np

#: The four MNIST files: size and SHA-256 of their decompressed content, in the order
#: train images, train labels, test images, test labels.
FILES = {
    "train-images-idx3-ubyte": {
        "size": 47_040_016,
        "sha256": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
    "train-labels-idx1-ubyte": {
        "size": 60_008,
        "sha256": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
    "t10k-images-idx3-ubyte": {
        "size": 7_840_016,
        "sha256": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
    "t10k-labels-idx1-ubyte": {
        "size": 10_008,
        "sha256": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
}

#: Where MNIST is downloaded from, tried in order (the mirrors torchvision uses). The files are
#: `<mirror><name>.gz`. `$LADDER_MNIST_MIRRORS` (comma-separated base URLs) replaces this list.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049  # 0x0803: uint8 in 3 dimensions; 0x0801: uint8 in 1
SIDE = 28  # MNIST images are 28×28 pixels

#: A download's progress hook: called with a file name, returns a bar with pooch's protocol
#: (`total` set once the server answers, `update(n)`, `reset()`, `close()`).
ProgressHook = Callable[[str], object]

HOW_TO_GET = ("run `ladder data fetch mnist` when online, "
              "or set LADDER_DATA_DIR to a folder holding mnist/*.gz")


class MNISTError(LadderError):
    """MNIST cannot be used: a file is damaged (truncated, not the right IDX file, or altered).

    Catching MNISTError also catches MNISTUnavailable.
    """


class MNISTUnavailable(MNISTError):
    """No copy of MNIST was found on disk and none could be downloaded."""


# -- where the files are -----------------------------------------------------------------------
def cache_dir() -> Path:
    """ladder's download cache (`~/.cache/ladder` on Linux; honours XDG_CACHE_HOME)."""
    import pooch

    return Path(pooch.os_cache("ladder"))


def search_roots(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for MNIST, in order: `data_dir`, `$LADDER_DATA_DIR`, the cache."""
    given = [data_dir, os.environ.get("LADDER_DATA_DIR")]
    return [Path(root).expanduser() for root in given if root] + [cache_dir()]


def _layouts(root: Path) -> list[Path]:
    """The folders inside `root` that may hold the four files, in the order they are tried."""
    return [root / "mnist", root, root / "MNIST" / "raw"]


def file_in(folder: Path, name: str) -> Path | None:
    """The file called `name` in `folder`, uncompressed preferred (it loads faster), else `.gz`."""
    for path in (folder / name, folder / f"{name}.gz"):
        if path.is_file():
            return path
    return None


def find_mnist(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The first folder (see `search_roots`) that holds all four MNIST files, or None.

    Only presence is checked here; the content is checked when the files are read.
    """
    for root in search_roots(data_dir):
        for folder in _layouts(root):
            if all(file_in(folder, name) for name in FILES):
                return folder
    return None


def _in_cache(path: Path) -> bool:
    """Whether `path` is one of ladder's downloads, which ladder may delete and fetch again."""
    return path.resolve().is_relative_to(cache_dir().resolve())


# -- checking one file --------------------------------------------------------------------------
def _parse_idx(path: Path, name: str) -> np.ndarray:
    """Read the IDX file at `path` as the MNIST file `name` and check its content.

    Returns a writable uint8 array: (n, 28, 28) for images, (n,) for labels. Raises IdxError if
    the header, the length or the SHA-256 of the content is not what `FILES[name]` expects.
    """
    images = "images" in name
    header, values = read_idx_file(path, IMAGE_MAGIC if images else LABEL_MAGIC, SIDE if images else None)
    expected = FILES[name]
    size = len(header) + values.size
    if size != expected["size"]:
        raise IdxError(f"has {size:,} bytes of content, expected {expected['size']:,}")
    digest = hashlib.sha256(header)
    digest.update(values)
    if digest.hexdigest() != expected["sha256"]:
        raise IdxError("is corrupt (the SHA-256 of its content does not match the known value)")
    return values


def read_idx(path: str | os.PathLike, name: str) -> np.ndarray:
    """Read and check one MNIST file; raise MNISTError naming the file and the fix if it is bad.

    A bad file inside ladder's download cache is deleted, so the next download replaces it.
    """
    path = Path(path)
    try:
        return _parse_idx(path, name)
    except IdxError as damage:
        if _in_cache(path):
            path.unlink(missing_ok=True)
            raise MNISTError(f"{path} {damage}; it was a download in ladder's cache and has "
                             "been deleted: run `ladder data fetch mnist` to download it again"
                             ) from None
        raise MNISTError(f"{path} {damage}; delete it and run `ladder data fetch mnist`, "
                         "or point LADDER_DATA_DIR at a good copy") from None


# -- downloading -------------------------------------------------------------------------------
def mirrors() -> list[str]:
    """The base URLs MNIST is downloaded from: `$LADDER_MNIST_MIRRORS` if set, else MIRRORS."""
    listed = os.environ.get("LADDER_MNIST_MIRRORS", "")
    chosen = [url.strip() for url in listed.split(",") if url.strip()] or MIRRORS
    return [url if url.endswith("/") else url + "/" for url in chosen]


def _describe_failure(url: str, error: Exception) -> str:
    """A short reason for one failed download (requests' own messages run to several lines)."""
    host = urlsplit(url).netloc
    response = getattr(error, "response", None)
    if response is not None:
        return f"{host}: HTTP {response.status_code}"
    if isinstance(error, IdxError):
        return f"{host}: the downloaded file {error}"
    import requests  # pooch's own dependency, imported late as pooch does
    if isinstance(error, requests.Timeout):
        return f"{host}: timed out"
    if isinstance(error, requests.ConnectionError):
        return f"{host}: could not connect"
    return f"{host}: {type(error).__name__}: {error}"


def _download(name: str, folder: Path, progress: ProgressHook | None) -> Path:
    """Download `<name>.gz` into `folder` from the first mirror whose copy passes the checks.

    A download that fails its check is deleted and the next mirror tried; when none succeeds,
    raise MNISTUnavailable with what each mirror did.
    """
    failures = []
    for base in mirrors():
        url = f"{base}{name}.gz"
        # Download beside the target and rename only once checked, so a partial or bad file
        # never sits under the real name.
        bar = progress(f"{name}.gz") if progress else False
        remove_abandoned(folder, f".{name}.", ".gz")  # a download a killed process left unfinished
        handle, part = tempfile.mkstemp(prefix=f".{name}.", suffix=".gz", dir=folder)
        part = Path(part)
        try:
            import pooch

            downloader = pooch.HTTPDownloader(progressbar=bar, chunk_size=1 << 16,
                                              timeout=(10, 60))
            with held(part, handle):  # pooch rewrites the same file, so the lock stays on it
                downloader(url, str(part), None)
                _parse_idx(part, name)
                return part.replace(folder / f"{name}.gz")
        except (OSError, IdxError) as error:  # requests' errors are OSErrors too
            failures.append(_describe_failure(url, error))
        finally:
            os.close(handle)
            if bar:
                bar.close()
            part.unlink(missing_ok=True)
    raise MNISTUnavailable(f"MNIST could not be downloaded ({name}.gz: {'; '.join(failures)}); "
                           + HOW_TO_GET)


def _has_good_copy(folder: Path, name: str) -> bool:
    """Whether `folder` holds an intact copy of `name`; damaged copies there are deleted."""
    good = False
    for path in (folder / name, folder / f"{name}.gz"):
        if path.is_file():
            try:
                _parse_idx(path, name)
                good = True
            except IdxError:
                path.unlink()
    return good


def fetch_mnist(data_dir: str | os.PathLike | None = None, progress: ProgressHook | None = None) -> Path:
    """Download whichever of the four MNIST files are missing into `<data_dir or cache>/mnist`.

    Files already there are checked and kept if intact; damaged ones are replaced. Returns the
    folder. Raises MNISTUnavailable (a LadderError) when a file cannot be downloaded from any
    mirror, e.g. offline. `progress(file_name)` gives a bar per file (see ProgressHook).
    """
    folder = Path(data_dir).expanduser() / "mnist" if data_dir else cache_dir() / "mnist"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LadderError(f"cannot create {folder} ({error.strerror}); "
                          "choose a folder you can write to") from None
    for name in FILES:
        if not _has_good_copy(folder, name):
            _download(name, folder, progress)
    return folder


