"""The Dataset record every generator and loader returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where arrays are made: `ladder list` never needs it
    import numpy as np


@dataclass
class Dataset:
    """Arrays already split into train and test, plus what a report needs to describe them.

    `task` is "classification" or "regression". Image datasets keep X as uint8 arrays of shape
    (n, height, width); tabular ones are float arrays of shape (n, n_features).
    """

    name: str
    task: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    params: dict = field(default_factory=dict)
    fallback_for: str | None = None  # set when this dataset stands in for one that could not be had
    note: str | None = None  # what a user should be told about how the data was obtained

    @property
    def n_features(self) -> int:
        return math.prod(self.X_train.shape[1:])

    @property
    def n_classes(self) -> int | None:
        import numpy as np

        return len(np.unique(self.y_train)) if self.task == "classification" else None

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "Dataset":
        """The first n_train training and n_test test samples (no split is sorted by class)."""
        return replace(self, X_train=self.X_train[:n_train], y_train=self.y_train[:n_train],
                       X_test=self.X_test[:n_test], y_test=self.y_test[:n_test])

    def rows(self, split: str = "train") -> np.ndarray:
        """X of a split as rows for scikit-learn: images (n, H, W) become (n, H·W)."""
        X = self.X_train if split == "train" else self.X_test
        return X.reshape(len(X), -1)

    def describe(self) -> dict:
        """The dataset block of results.json."""
        info = {"name": self.name, "n_train": len(self.X_train), "n_test": len(self.X_test),
                "n_features": self.n_features, **self.params}
        if self.fallback_for:
            info["fallback_for"] = self.fallback_for
        return info


def task(kind: str, shape: tuple[int, ...] | None = None, classes: int | None = None):
    """Mark a dataset function with the task it poses, so a spec can be checked without loading
    data, and, for data that is costly to have (downloaded images), the shape of one sample and
    the number of classes, so `ladder inspect` can build a model without the data."""
    def mark(fn):
        fn.task, fn.shape, fn.classes = kind, shape, classes
        return fn
    return mark


def split(name, task, X, y, *, test_size, seed, params) -> Dataset:
    """Split arrays into a Dataset, stratified by class for classification.

    `test_size=0` holds nothing out: the "test" split is the training data itself, for the
    glass-box lessons that fit four points and ask what the model predicts on them.
    """
    if test_size == 0:
        return Dataset(name, task, X, X.copy(), y, y.copy(), params={**params, "test_is_train": True})
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be 0 (no held-out split) or between 0 and 1, got {test_size}")
    stratify = y if task == "classification" else None
    from sklearn.model_selection import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=stratify)
    return Dataset(name, task, X_train, X_test, y_train, y_test, params=params)
