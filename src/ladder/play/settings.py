"""A session's settings: their defaults, their limits, and the checks a client's values must pass."""

from __future__ import annotations

from dataclasses import dataclass

from ..features.toggles import INPUTS
from .datasets import DATASETS, MAX_CLASSES

#: The course's φ: what each input-feature toggle feeds the network (ladder's `playground` map).
FEATURES = INPUTS
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
REGULARIZATION = ("none", "l1", "l2")

DEFAULTS = {"dataset": "circles", "noise": 0.1, "train_ratio": 0.5, "points": 400, "seed": 0, "classes": 3,
            "features": ["x1", "x2"], "hidden": [4, 2], "activation": "tanh", "lr": 0.03,
            "regularization": "none", "reg_rate": 0.001, "batch_size": 10}

#: Which settings make new data, which a new network; the rest change the running training.
DATA_KEYS = {"dataset", "noise", "train_ratio", "points", "seed", "classes"}
NETWORK_KEYS = {"features", "hidden", "activation"}


@dataclass(frozen=True)
class Limits:
    """What one session may ask for, so no client can take the machine from the others."""

    max_points: int = 2000
    max_layers: int = 6
    max_units: int = 64
    max_csv_bytes: int = 1_000_000
    max_steps_per_second: float = 60.0  # frames a playing session gets, each an epoch or a piece of one


def _number(key, value, low, high, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and value != int(value)):
        kind = "a whole number" if integer else "a number"
        raise ValueError(f"{key} must be {kind} between {low} and {high}, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{key} must be between {low} and {high}, got {value!r}")
    return int(value) if integer else float(value)


def _choice(key, value, choices):
    if value not in choices:
        raise ValueError(f"{key} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _features(value):
    if not isinstance(value, list) or not value or any(v not in FEATURES for v in value):
        raise ValueError(f"features must be a non-empty list drawn from {', '.join(FEATURES)}, got {value!r}")
    return [f for f in FEATURES if f in value]  # one canonical order, duplicates dropped


def _hidden(value, limits: Limits):
    if not isinstance(value, list) or len(value) > limits.max_layers:
        raise ValueError(f"hidden must be a list of at most {limits.max_layers} layer widths, got {value!r}")
    return [_number("each hidden layer", v, 1, limits.max_units, integer=True) for v in value]


def check(settings: dict, limits: Limits) -> dict:
    """The settings as given, checked one by one; ValueError names the first bad key."""
    if not isinstance(settings, dict):
        raise ValueError("settings must be an object of name: value pairs")
    checked = {}
    for key, value in settings.items():
        if key == "dataset":
            checked[key] = _choice(key, value, (*DATASETS, "csv"))
        elif key == "noise":
            checked[key] = _number(key, value, 0, 1)
        elif key == "train_ratio":
            checked[key] = _number(key, value, 0.1, 0.9)
        elif key == "points":
            checked[key] = _number(key, value, 20, limits.max_points, integer=True)
        elif key == "seed":
            checked[key] = _number(key, value, 0, 2**31 - 1, integer=True)
        elif key == "classes":  # how many blobs; every other data set has its own classes
            checked[key] = _number(key, value, 2, MAX_CLASSES, integer=True)
        elif key == "features":
            checked[key] = _features(value)
        elif key == "hidden":
            checked[key] = _hidden(value, limits)
        elif key in ("activation", "regularization"):
            checked[key] = _choice(key, value, ACTIVATIONS if key == "activation" else REGULARIZATION)
        elif key in ("lr", "reg_rate"):
            checked[key] = _number(key, value, 0, 100)
        elif key == "batch_size":
            checked[key] = _number(key, value, 1, limits.max_points, integer=True)
        else:
            raise ValueError(f"unknown setting {key!r}; the settings are: {', '.join(DEFAULTS)}")
    return checked
