"""Experiments: the built-in TOML files shipped with ladder, and user files in the same format."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import LadderError
from .spec import ExperimentSpec, load, validate

#: The course's progression, in order: what a plain `ladder run` runs.
PROGRESSION = ["circles", "sine", "spirals", "mnist"]


def builtin_names() -> list[str]:
    """Every built-in experiment, the progression first."""
    files = resources.files(__package__) / "builtin"
    names = sorted(p.name.removesuffix(".toml") for p in files.iterdir() if p.name.endswith(".toml"))
    return [n for n in PROGRESSION if n in names] + [n for n in names if n not in PROGRESSION]


def resolve(target: str) -> ExperimentSpec:
    """A built-in experiment by name, or an experiment file by path."""
    if target.endswith(".toml") or Path(target).is_file():
        return load(target)
    if target not in builtin_names():
        raise LadderError(f"unknown experiment {target!r}; choose one of: {', '.join(builtin_names())}"
                          f", or give the path of a .toml file")
    with resources.as_file(resources.files(__package__) / "builtin" / f"{target}.toml") as path:
        return load(path)


__all__ = ["ExperimentSpec", "PROGRESSION", "builtin_names", "load", "resolve", "validate"]
