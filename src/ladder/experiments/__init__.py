"""Experiments: the built-in TOML files shipped with ladder, and user files in the same format."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from ..errors import LadderError

#: The course's progression, in order: what a plain `ladder run` runs.
PROGRESSION = ["circles", "sine", "spirals", "mnist", "mnist-shift", "mnist1d"]


def builtin_names() -> list[str]:
    """Every built-in experiment, the progression first."""
    files = resources.files(__package__) / "builtin"
    names = sorted(p.name.removesuffix(".toml") for p in files.iterdir() if p.name.endswith(".toml"))
    return [n for n in PROGRESSION if n in names] + [n for n in names if n not in PROGRESSION]


def builtin_title(name: str) -> str:
    """A built-in experiment's title, read without checking the file (fast, for `ladder list`)."""
    text = (resources.files(__package__) / "builtin" / f"{name}.toml").read_text(encoding="utf-8")
    return str(tomllib.loads(text).get("title", ""))


def dataset_name(target: str) -> str | None:
    """The dataset an experiment (a built-in name or a file) names, read without checking the
    file (fast: before PyTorch is imported); None where it cannot be read."""
    try:
        if target.endswith(".toml") or Path(target).is_file():
            text = Path(target).read_text(encoding="utf-8")
        else:
            text = (resources.files(__package__) / "builtin" / f"{target}.toml").read_text(encoding="utf-8")
        return str(tomllib.loads(text)["dataset"]["name"])
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return None  # resolve() says what is wrong with it


def resolve(target: str):
    """A built-in experiment by name, or an experiment file by path, read and checked (an ExperimentSpec)."""
    from .spec import load

    if target.endswith(".toml") or Path(target).is_file():
        return load(target)
    if target not in builtin_names():
        raise LadderError(f"unknown experiment {target!r}; choose one of: {', '.join(builtin_names())}"
                          f", or give the path of a .toml file")
    with resources.as_file(resources.files(__package__) / "builtin" / f"{target}.toml") as path:
        return load(path)


def load_dataset(spec):
    """The dataset an experiment (an ExperimentSpec) names; an impossible parameter is a
    LadderError naming the file."""
    from .. import data  # (like the spec, loaded when an experiment is run, not when one is listed)

    params = spec.dataset.model_extra or {}
    try:
        return data.load(spec.dataset.name, **params)
    except ValueError as exc:
        # The generators start their messages with the parameter's name: point at that key.
        key, _, rest = str(exc).partition(" ")
        where = f"dataset.{key}: {rest}" if key in params else f"dataset: {exc}"
        raise LadderError(f"{spec.source}: {where} (dataset {spec.dataset.name!r})") from None


def __getattr__(name: str):
    # The spec (pydantic models, every builder) loads when a file is read, not when names are listed.
    if name in ("ExperimentSpec", "load", "validate"):
        from . import spec

        return getattr(spec, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ExperimentSpec", "PROGRESSION", "builtin_names", "builtin_title", "dataset_name", "load", "load_dataset",
           "resolve", "validate"]
