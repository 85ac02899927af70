"""The playground's data: ladder's 2-D toys scaled onto one plane, two regressions, and CSV files
(made by `ladder.data.playground`, which an exported experiment file names)."""

from __future__ import annotations

from ..data.dataset import Dataset
from ..data.playground import (BLOB_RADIUS, CLASSIFICATION, DOMAIN, MAX_CLASSES, REGRESSION,  # noqa: F401
                               CSVError, from_csv, playground, read_csv)

DATASETS = CLASSIFICATION + REGRESSION


def make(name: str, n: int, noise: float, train_ratio: float, seed: int, classes: int = 3) -> Dataset:
    """A generated dataset on the playground's plane, split train/test by `train_ratio`.

    `classes` is how many blobs "blobs" has (2 to MAX_CLASSES); the other data sets have their own.
    It is `ladder.data.playground`, the data set an exported experiment file names.
    """
    return playground(name, n, noise, classes, seed, test_size=1 - train_ratio)
