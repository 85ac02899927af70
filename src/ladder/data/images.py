"""Image datasets: MNIST (found on disk or downloaded, always checked) and the 8×8 digits.

MNIST comes as four IDX files. An IDX file is a big-endian header (a magic number that says the
element type and the number of dimensions, then one uint32 per dimension) followed by the raw
uint8 values. Where the files are looked for, in order:

1. the `data_dir` argument, 2. `$LADDER_DATA_DIR`, 3. ladder's download cache (`cache_dir()`);

and inside each of those, `mnist/` (the course copy's layout), the folder itself, and
`MNIST/raw/` (torchvision's layout, so an existing torchvision download is reused). Each file may
be gzip-compressed (`.gz`) or not. Every file is checked against the SHA-256 of its *decompressed*
content, so a copy recompressed by someone else is still recognised as good.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pooch
from sklearn.datasets import load_digits

from ..errors import LadderError
from .dataset import Dataset, split, task

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

HOW_TO_GET = ("run `ladder data fetch mnist` when online, "
              "or set LADDER_DATA_DIR to a folder holding mnist/*.gz")


class MNISTError(LadderError):
    """MNIST cannot be used: a file is damaged (truncated, not the right IDX file, or altered).

    Catching MNISTError also catches MNISTUnavailable.
    """


class MNISTUnavailable(MNISTError):
    """No copy of MNIST was found on disk and none could be downloaded."""


class _Damaged(Exception):
    """Internal: what is wrong with one file, before we know whether it may be deleted."""


# -- where the files are -----------------------------------------------------------------------
def cache_dir() -> Path:
    """ladder's download cache (`~/.cache/ladder` on Linux; honours XDG_CACHE_HOME)."""
    return Path(pooch.os_cache("ladder"))


def search_roots(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for MNIST, in order: `data_dir`, `$LADDER_DATA_DIR`, the cache."""
    given = [data_dir, os.environ.get("LADDER_DATA_DIR")]
    return [Path(root).expanduser() for root in given if root] + [cache_dir()]


def _layouts(root: Path) -> list[Path]:
    """The folders inside `root` that may hold the four files, in the order they are tried."""
    return [root / "mnist", root, root / "MNIST" / "raw"]


def _file_in(folder: Path, name: str) -> Path | None:
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
            if all(_file_in(folder, name) for name in FILES):
                return folder
    return None


def _in_cache(path: Path) -> bool:
    """Whether `path` is one of ladder's downloads, which ladder may delete and fetch again."""
    return path.resolve().is_relative_to(cache_dir().resolve())


# -- reading and checking one file -------------------------------------------------------------
def _read_into(file, values: np.ndarray) -> int:
    """Fill `values` from `file`; return how many bytes there were (fewer means the file ended).

    Reading straight into a fresh array keeps it writable and avoids copying 47 MB once more.
    """
    view = memoryview(values).cast("B")
    filled = 0
    while filled < len(view):
        n = file.readinto(view[filled:])
        if not n:
            break
        filled += n
    return filled


def _parse_idx(path: Path, name: str) -> np.ndarray:
    """Read the IDX file at `path` (gzip if it ends in .gz) as the MNIST file `name`.

    Returns a writable uint8 array: (n, 28, 28) for images, (n,) for labels. Raises _Damaged if
    the header, the length or the SHA-256 of the content is not what `FILES[name]` expects.
    """
    expected_magic = IMAGE_MAGIC if "images" in name else LABEL_MAGIC
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as file:
            header = file.read(4)
            magic = int.from_bytes(header, "big")
            if len(header) < 4 or magic != expected_magic:
                raise _Damaged(f"is not an MNIST {'image' if 'images' in name else 'label'} file "
                               f"(magic number {magic}, expected {expected_magic})")
            ndim = header[3]
            dims_bytes = file.read(4 * ndim)
            header += dims_bytes
            if len(dims_bytes) < 4 * ndim:
                raise _Damaged("is truncated inside its header")
            shape = tuple(int(d) for d in np.frombuffer(dims_bytes, ">u4"))
            if expected_magic == IMAGE_MAGIC and shape[1:] != (SIDE, SIDE):
                raise _Damaged(f"holds images of {shape[1]}×{shape[2]} pixels, expected 28×28")
            values = np.empty(shape, np.uint8)
            n_read = _read_into(file, values)
            if n_read < values.size:
                raise _Damaged(f"is truncated (its header promises {values.size:,} bytes of data, "
                               f"found {n_read:,})")
            if file.read(1):
                raise _Damaged(f"has bytes after the {values.size:,} its header promises")
    except (OSError, EOFError, zlib.error) as error:  # a broken gzip stream or an unreadable file
        raise _Damaged(f"could not be read ({type(error).__name__}: {error})") from None
    expected = FILES[name]
    size = len(header) + values.size
    if size != expected["size"]:
        raise _Damaged(f"has {size:,} bytes of content, expected {expected['size']:,}")
    digest = hashlib.sha256(header)
    digest.update(values)
    if digest.hexdigest() != expected["sha256"]:
        raise _Damaged("is corrupt (the SHA-256 of its content does not match the known value)")
    return values


def read_idx(path: str | os.PathLike, name: str) -> np.ndarray:
    """Read and check one MNIST file; raise MNISTError naming the file and the fix if it is bad.

    A bad file inside ladder's download cache is deleted, so the next download replaces it.
    """
    path = Path(path)
    try:
        return _parse_idx(path, name)
    except _Damaged as damage:
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


class _RichBar:
    """The progress-bar protocol pooch drives (total, update, reset, close), drawn with rich.

    pooch's own `progressbar=True` needs tqdm, which ladder does not depend on; rich it does.
    The bar appears only once the server answers (pooch then sets `total`), so a mirror that
    fails leaves nothing on the screen.
    """

    def __init__(self, description: str):
        self.description = description
        self._progress = None

    @property
    def total(self):
        return self._progress.tasks[0].total if self._progress else None

    @total.setter
    def total(self, value):
        from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                   TransferSpeedColumn)
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                  DownloadColumn(), TransferSpeedColumn())
        self._task = self._progress.add_task(self.description, total=value or None)
        self._progress.start()

    def update(self, n: int):
        self._progress.advance(self._task, n)

    def reset(self):
        self._progress.reset(self._task)

    def close(self):
        if self._progress:
            self._progress.stop()


def _describe_failure(url: str, error: Exception) -> str:
    """A short reason for one failed download (requests' own messages run to several lines)."""
    host = urlsplit(url).netloc
    response = getattr(error, "response", None)
    if response is not None:
        return f"{host}: HTTP {response.status_code}"
    if isinstance(error, _Damaged):
        return f"{host}: the downloaded file {error}"
    import requests  # pooch's own dependency, imported late as pooch does
    if isinstance(error, requests.Timeout):
        return f"{host}: timed out"
    if isinstance(error, requests.ConnectionError):
        return f"{host}: could not connect"
    return f"{host}: {type(error).__name__}: {error}"


def _download(name: str, folder: Path, progress: bool) -> Path:
    """Download `<name>.gz` into `folder` from the first mirror whose copy passes the checks.

    A download that fails its check is deleted and the next mirror tried; when none succeeds,
    raise MNISTUnavailable with what each mirror did.
    """
    failures = []
    for base in mirrors():
        url = f"{base}{name}.gz"
        # Download beside the target and rename only once checked, so a partial or bad file
        # never sits under the real name.
        handle, part = tempfile.mkstemp(prefix=f".{name}.", suffix=".gz", dir=folder)
        os.close(handle)
        part = Path(part)
        bar = _RichBar(f"{name}.gz") if progress else False
        try:
            downloader = pooch.HTTPDownloader(progressbar=bar, chunk_size=1 << 16,
                                              timeout=(10, 60))
            downloader(url, str(part), None)
            _parse_idx(part, name)
            return part.replace(folder / f"{name}.gz")
        except (OSError, _Damaged) as error:  # requests' errors are OSErrors too
            failures.append(_describe_failure(url, error))
        finally:
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
            except _Damaged:
                path.unlink()
    return good


def fetch_mnist(data_dir: str | os.PathLike | None = None, progress: bool = False) -> Path:
    """Download whichever of the four MNIST files are missing into `<data_dir or cache>/mnist`.

    Files already there are checked and kept if intact; damaged ones are replaced. Returns the
    folder. Raises MNISTUnavailable (a LadderError) when a file cannot be downloaded from any
    mirror, e.g. offline. `progress=True` draws a progress bar per file on the terminal.
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


# -- the public loaders ------------------------------------------------------------------------
def load_mnist(data_dir: str | os.PathLike | None = None, download: bool = True
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as arrays (X_train, y_train, X_test, y_test): uint8 images (n, 28, 28), int64 labels.

    Looks in `data_dir`, `$LADDER_DATA_DIR` and the cache; downloads into the cache when no copy
    is found and `download` is True. Raises MNISTUnavailable when MNIST cannot be had, MNISTError
    when a file is damaged.
    """
    folder = find_mnist(data_dir)
    if folder is None:
        places = ", ".join(str(root) for root in search_roots(data_dir))
        if not download:
            raise MNISTUnavailable(f"MNIST was not found in {places} and download=False; "
                                   + HOW_TO_GET)
        try:
            folder = fetch_mnist()
        except MNISTUnavailable as failed:
            raise MNISTUnavailable(f"MNIST was not found in {places}, and {failed}") from None
    X_train, y_train, X_test, y_test = (read_idx(_file_in(folder, name), name) for name in FILES)
    for images, labels in ((X_train, y_train), (X_test, y_test)):
        if len(images) != len(labels):  # only possible when FILES was edited
            raise MNISTError(f"{folder} holds {len(images)} images but {len(labels)} labels; "
                             + HOW_TO_GET)
    # int64 labels: what scikit-learn's datasets use and what PyTorch's losses expect.
    return X_train, y_train.astype(np.int64), X_test, y_test.astype(np.int64)


@task("classification")
def mnist(data_dir: str | None = None, download: bool = True, fallback: bool = True,
          seed: int = 0) -> Dataset:
    """MNIST: 70,000 handwritten digits, 28×28 pixels, the canonical 60,000/10,000 split.

    When MNIST can be neither found nor downloaded and `fallback` is True, returns the `digits`
    dataset instead (split with `seed`), marked with `fallback_for="mnist"` and a `note` that
    says how to get MNIST; with `fallback=False` that raises MNISTUnavailable.
    """
    try:
        X_train, y_train, X_test, y_test = load_mnist(data_dir, download)
    except MNISTUnavailable as missing:
        if not fallback:
            raise
        stand_in = digits(seed=seed)
        stand_in.fallback_for = "mnist"
        stand_in.note = f"Using scikit-learn's 8×8 digits instead of MNIST. {missing}"
        return stand_in
    return Dataset("mnist", "classification", X_train, X_test, y_train, y_test)


@task("classification")
def digits(seed: int = 0, test_size: float = 0.25) -> Dataset:
    """scikit-learn's 1,797 bundled handwritten digits, 8×8 pixels, split by class."""
    bunch = load_digits()
    # Stored as 0..16 intensities; scale to 0..255 so every image dataset shares one range.
    X = np.round(bunch.images * (255 / 16)).astype(np.uint8)
    return split("digits", "classification", X, bunch.target.astype(np.int64),
                 test_size=test_size, seed=seed, params={})
