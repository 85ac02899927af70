"""pydantic's validation errors, turned into one line that names the key path and the valid choices."""

from __future__ import annotations

import typing

from pydantic import BaseModel, ValidationError


def _field_path(loc: tuple) -> tuple:
    """A location without pydantic's union tags: ('train', 'batch_size', "literal['full']") → the first two."""
    return tuple(k for k in loc if isinstance(k, int) or ("[" not in k and k not in _TYPE_TAGS))


_TYPE_TAGS = {"int", "float", "str", "bool", "list", "dict", "none", "constrained-int", "constrained-float"}


def first_error(exc: ValidationError) -> tuple[tuple, str, str]:
    """The first mistake: its field path, its type, and every alternative's message joined by "or"."""
    errors = exc.errors()
    path = _field_path(errors[0]["loc"])
    same = [e for e in errors if _field_path(e["loc"]) == path]
    messages = list(dict.fromkeys(e["msg"][0].lower() + e["msg"][1:] for e in same))
    return path, same[0]["type"], " or ".join(messages)


def key_path(loc: tuple, data: dict) -> str:
    """('rungs', 2, 'train', 'epochs') → 'rungs[2] (mlp).train.epochs'."""
    parts, node = [], data
    for key in loc:
        if isinstance(key, int):
            parts[-1] += f"[{key}]"
            node = node[key] if isinstance(node, list) and key < len(node) else {}
            if isinstance(node, dict) and "name" in node:
                parts[-1] += f" ({node['name']})"
        else:
            parts.append(str(key))
            node = node.get(key, {}) if isinstance(node, dict) else {}
    return ".".join(parts) or "(top level)"


def _fields(model: type[BaseModel], loc: tuple) -> list[str]:
    """The valid keys at the place `loc` points to, for 'unknown key' messages."""
    for key in loc[:-1]:
        if isinstance(key, int):
            continue
        annotation = model.model_fields[key].annotation
        args = [a for a in typing.get_args(annotation) if isinstance(a, type)] or [annotation]
        for arg in args:
            origin_args = typing.get_args(arg)
            arg = next((a for a in origin_args if isinstance(a, type)), arg)
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                model = arg
                break
    return [key for key in model.model_fields if key not in SET_BY_LADDER]


#: Keys of the schema that ladder fills in itself and a file never holds: `swept`, the values a
#: sweep gave one of its expanded rungs (written to results.json as the rung's "sweep").
SET_BY_LADDER = {"swept"}


def pydantic_message(kind: str, message: str, root: type[BaseModel], loc: tuple) -> str:
    if kind == "extra_forbidden":
        return f"unknown key; valid keys: {', '.join(_fields(root, loc))}"
    if kind == "missing":
        return "missing required key"
    return message
