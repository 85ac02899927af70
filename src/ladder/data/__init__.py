"""Datasets by name: `load("spirals", n=500)` returns a split Dataset."""

from __future__ import annotations

from . import images, playground, signals, synthetic
from .dataset import Dataset

#: Every dataset a spec can name, with the function that makes it.
DATASETS = {
    "circles": synthetic.circles,
    "moons": synthetic.moons,
    "spirals": synthetic.spirals,
    "xor": synthetic.xor,
    "blobs": synthetic.blobs,
    "linear": synthetic.linear,
    "sine": synthetic.sine,
    "line": synthetic.line,
    "mnist": images.mnist,
    "digits": images.digits,
    "mnist1d": signals.mnist1d,
    "playground": playground.playground,
    "csv": playground.csv_file,
}


def is_image_dataset(name: str) -> bool:
    """Whether the dataset called `name` is images (X of shape (n, H, W)), known without making it."""
    return name in DATASETS and DATASETS[name].__module__ == images.__name__


def task_of(name: str, params: dict) -> str:
    """The task the dataset `name` with these parameters poses ("classification" or "regression")."""
    make = DATASETS[name]
    return make.task_of(params) if hasattr(make, "task_of") else make.task


def load(name: str, **params) -> Dataset:
    """Make (or load) the dataset called `name` with the generator's keyword arguments."""
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return DATASETS[name](**params)


__all__ = ["DATASETS", "Dataset", "is_image_dataset", "load", "task_of"]
