"""Sweeps: one rung in the file stands for one rung per value (or combination of values) it lists."""

from __future__ import annotations

import itertools

from pydantic import ValidationError

from ..errors import LadderError
from .messages import first_error, key_path, pydantic_message
from .schema import RungSpec


def _label(value) -> str:
    """A sweep value as a rung-name suffix: [50, 50] → "50x50", 0.01 → "0.01"."""
    if isinstance(value, list):
        return "x".join(_label(v) for v in value)
    return str(value)


def expand_sweeps(rungs: list[RungSpec], source: str) -> list[RungSpec]:
    """Replace each rung that has a `sweep` by one rung per combination of its values.

    `sweep = { "model.hidden" = [[2], [3]] }` on rung "mlp" gives rungs "mlp-2" and "mlp-3";
    several keys give every combination, their labels joined by "-".
    """
    expanded = []
    for i, rung in enumerate(rungs):
        if not rung.sweep:
            expanded.append(rung)
            continue
        at = f"{source}: rungs[{i}] ({rung.name}).sweep"
        for key, values in rung.sweep.items():
            section, _, param = key.partition(".")
            if section not in ("model", "features", "train") or not param:
                raise LadderError(f"{at}: {key!r} is not a swept parameter; write "
                                  f"\"model.<param>\", \"features.<param>\" or \"train.<param>\"")
            if not values:
                raise LadderError(f"{at}.{key}: give at least one value")
        keys = list(rung.sweep)
        for combination in itertools.product(*(rung.sweep[k] for k in keys)):
            data = rung.model_dump(exclude={"sweep", "swept"}, exclude_none=True)
            for key, value in zip(keys, combination):
                section, _, param = key.partition(".")
                data.setdefault(section, {})[param] = value
            data["name"] = "-".join([rung.name, *map(_label, combination)])
            data["swept"] = dict(zip(keys, combination))
            try:
                expanded.append(RungSpec.model_validate(data))
            except ValidationError as exc:
                loc, kind, message = first_error(exc)
                raise LadderError(f"{at} ({data['name']}): {key_path(loc, data)}: "
                                  f"{pydantic_message(kind, message, RungSpec, loc)}") from None
    return expanded
