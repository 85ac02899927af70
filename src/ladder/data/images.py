"""Image datasets: MNIST (found on disk or downloaded, always checked; see mnist_files.py) and the 8×8 digits."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from . import mnist_files
from .dataset import Dataset, split, task
from .mnist_files import (FILES, HOW_TO_GET, MIRRORS, MNISTError, MNISTUnavailable,  # noqa: F401
                          cache_dir, fetch_mnist, find_mnist, read_idx, search_roots)

if TYPE_CHECKING:  # numpy is imported where arrays are made: `ladder list` never needs it
    import numpy as np

# -- the public loaders ------------------------------------------------------------------------
def load_mnist(data_dir: str | os.PathLike | None = None, download: bool = True
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as arrays (X_train, y_train, X_test, y_test): uint8 images (n, 28, 28), int64 labels.

    Looks in `data_dir`, `$LADDER_DATA_DIR` and the cache; downloads into the cache when no copy
    is found and `download` is True. Raises MNISTUnavailable when MNIST cannot be had, MNISTError
    when a file is damaged.
    """
    import numpy as np

    folder = mnist_files.find_mnist(data_dir)
    if folder is None:
        places = ", ".join(str(root) for root in mnist_files.search_roots(data_dir))
        if not download:
            raise MNISTUnavailable(f"MNIST was not found in {places} and download=False; "
                                   + HOW_TO_GET)
        try:
            folder = mnist_files.fetch_mnist()
        except MNISTUnavailable as failed:
            raise MNISTUnavailable(f"MNIST was not found in {places}, and {failed}") from None
    X_train, y_train, X_test, y_test = (mnist_files.read_idx(mnist_files.file_in(folder, name), name)
                                        for name in mnist_files.FILES)
    for images, labels in ((X_train, y_train), (X_test, y_test)):
        if len(images) != len(labels):  # only possible when FILES was edited
            raise MNISTError(f"{folder} holds {len(images)} images but {len(labels)} labels; "
                             + HOW_TO_GET)
    # int64 labels: what scikit-learn's datasets use and what PyTorch's losses expect.
    return X_train, y_train.astype(np.int64), X_test, y_test.astype(np.int64)


@task("classification", shape=(28, 28), classes=10)
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
    import numpy as np
    from sklearn.datasets import load_digits

    bunch = load_digits()
    # Stored as 0..16 intensities; scale to 0..255 so every image dataset shares one range.
    X = np.round(bunch.images * (255 / 16)).astype(np.uint8)
    return split("digits", "classification", X, bunch.target.astype(np.int64),
                 test_size=test_size, seed=seed, params={})
