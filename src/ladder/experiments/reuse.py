"""Rungs that are the same as a rung of another experiment (`same_as = "mnist:cnn"`)."""

from __future__ import annotations

from ..errors import LadderError


def resolve_same_as(spec, source: str) -> None:
    """Give each `same_as` rung the φ, model and training of the rung it names, in place.

    The other experiment must use the very same dataset (a model is only the same model on the
    same data). Afterwards `same_as` reads "<experiment name>:<rung>", so the runner can tell
    when that rung is fitted in the same run and score its model instead of training another.
    """
    from . import resolve

    for i, rung in enumerate(spec.rungs):
        if rung.same_as is None:
            continue
        at = f"{source}: rungs[{i}] ({rung.name}).same_as"
        experiment, _, name = rung.same_as.rpartition(":")
        if not experiment or not name:
            raise LadderError(f"{at}: write \"EXPERIMENT:RUNG\", e.g. \"mnist:cnn\"")
        if rung.model is not None or rung.features is not None or rung.train is not None:
            raise LadderError(f"{at}: the rung takes its features, model and training from "
                              f"{rung.same_as!r}; remove them here")
        if experiment == spec.name:
            raise LadderError(f"{at}: name a rung of another experiment, not of {spec.name!r} itself")
        other = resolve(experiment)
        if other.dataset.model_dump() != spec.dataset.model_dump():
            raise LadderError(f"{at}: {experiment!r} uses another dataset ({_data(other)} here "
                              f"{_data(spec)}); the same model must see the same data")
        original = next((r for r in other.rungs if r.name == name), None)
        if original is None:
            raise LadderError(f"{at}: {experiment!r} has no rung {name!r}; its rungs: "
                              f"{', '.join(r.name for r in other.rungs)}")
        spec.rungs[i] = rung.model_copy(update={
            "same_as": f"{other.name}:{original.name}", "features": original.features,
            "model": original.model, "train": original.train})


def _data(spec) -> str:
    return ", ".join(f"{k}={v}" for k, v in spec.dataset.model_dump().items())
