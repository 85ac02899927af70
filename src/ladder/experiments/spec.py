"""The experiment file (TOML): read it, check every key, and explain each mistake in one line.

An error names the file, the key path (rungs[2] (mlp).train.epochs) and the valid choices. The
schema is `schema.py`, sweeps are expanded by `sweeps.py`, and pydantic's errors are put into
words by `messages.py`.
"""

from __future__ import annotations

import inspect
import tomllib
import typing
from pathlib import Path

from pydantic import ConfigDict, ValidationError, create_model

from .. import claims
from ..data import DATASETS
from ..errors import LadderError
from ..features import FEATURES
from ..rungs import MODELS, backend_of, build_estimator
from .messages import first_error, key_path, pydantic_message
from .schema import ClaimSpec, Component, DatasetSpec, ExperimentSpec, RungSpec, TrainSpec  # noqa: F401
from .reuse import resolve_same_as
from .sweeps import expand_sweeps

IMAGE_DATASETS = ("mnist", "digits")


def _check_params(factory, params: dict, where: str, skip: int = 0) -> None:
    """Check keyword arguments against a factory's signature: names, then types."""
    signature = inspect.signature(factory)
    names = [p for p in list(signature.parameters)[skip:] if signature.parameters[p].kind
             is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    hints = typing.get_type_hints(factory, include_extras=True)  # keep the ranges of Annotated
    for key in params:
        if key not in names:
            valid = ", ".join(names) if names else "none"
            raise LadderError(f"{where}.{key}: unknown parameter; valid parameters: {valid}")
    fields = {n: (hints.get(n, typing.Any), signature.parameters[n].default) for n in names}
    Params = create_model("Params", __config__=ConfigDict(extra="forbid", strict=True), **fields)
    try:
        Params(**params)
    except ValidationError as exc:
        loc, _, message = first_error(exc)
        key = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in loc)
        raise LadderError(f"{where}{key}: {message} (got {exc.errors()[0]['input']!r})") from None


def _choice(value: str, choices, where: str, what: str) -> None:
    if value not in choices:
        raise LadderError(f"{where}: unknown {what} {value!r}; choose one of: {', '.join(choices)}")


def validate(data: dict, source: str = "<spec>") -> ExperimentSpec:
    """Turn a parsed TOML dict into an ExperimentSpec, or raise LadderError naming the mistake."""
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        loc, kind, message = first_error(exc)
        raise LadderError(f"{source}: {key_path(loc, data)}: "
                          f"{pydantic_message(kind, message, ExperimentSpec, loc)}") from None

    spec._source = source
    spec.rungs = expand_sweeps(spec.rungs, source)
    _choice(spec.dataset.name, DATASETS, f"{source}: dataset.name", "dataset")
    _check_params(DATASETS[spec.dataset.name], spec.dataset.model_extra or {}, f"{source}: dataset")
    resolve_same_as(spec, source)
    if spec.probes is not None and spec.dataset.name not in IMAGE_DATASETS:
        raise LadderError(f"{source}: probes: shifted and rotated test images need an image dataset "
                          f"({', '.join(IMAGE_DATASETS)}), not {spec.dataset.name!r}")
    seen = set()
    for i, rung in enumerate(spec.rungs):
        at = f"{source}: rungs[{i}] ({rung.name})"
        if rung.name in seen:
            raise LadderError(f"{at}.name: two rungs are called {rung.name!r}; names must be unique")
        seen.add(rung.name)
        _check_rung(rung, spec, at)
    _check_claims(spec, source)
    return spec


def _check_rung(rung: RungSpec, spec: ExperimentSpec, at: str) -> None:
    """Its feature map, model kind, backend, parameters and training settings, in that order."""
    if rung.model is None:
        raise LadderError(f"{at}.model: missing required key (or take another rung's with "
                          f"same_as = \"EXPERIMENT:RUNG\")")
    if rung.train is not None and rung.train.augment is not None and spec.dataset.name not in IMAGE_DATASETS:
        raise LadderError(f"{at}.train.augment: moving images needs an image dataset "
                          f"({', '.join(IMAGE_DATASETS)}), not {spec.dataset.name!r}")
    if rung.train is not None and rung.train.label_smoothing and spec.task != "classification":
        raise LadderError(f"{at}.train.label_smoothing: smoothing labels is for classifiers; "
                          f"remove it ({spec.dataset.name!r} is a {spec.task} dataset)")
    if rung.features is not None:
        _choice(rung.features.kind, FEATURES, f"{at}.features.kind", "feature map")
        _check_params(FEATURES[rung.features.kind], rung.features.model_extra or {}, f"{at}.features")
    _choice(rung.model.kind, MODELS, f"{at}.model.kind", "model")
    task, (_, tasks, builders) = spec.task, MODELS[rung.model.kind]
    if task not in tasks:
        raise LadderError(f"{at}.model.kind: {rung.model.kind!r} does not do {task} "
                          f"(dataset {spec.dataset.name!r}); use one of: "
                          f"{', '.join(k for k, m in MODELS.items() if task in m[1])}")
    params = dict(rung.model.model_extra or {})
    params.pop("backend", None)
    backend = backend_of(rung.model.model_dump())
    _choice(backend, builders, f"{at}.model.backend", f"backend for {rung.model.kind!r}")
    _check_params(builders[backend], params, f"{at}.model", skip=4)
    if rung.train is not None and backend not in ("torch", "manual"):
        raise LadderError(f"{at}.train: only PyTorch rungs are trained by ladder's loop; "
                          f"remove [train] or set model.backend = \"torch\"")
    try:  # constructors only store settings, so this is cheap; it catches impossible combinations
        build_estimator(task, rung.features and rung.features.model_dump(), rung.model.model_dump(),
                        rung.train.estimator_params() if rung.train else None, seed=0, device="cpu")
    except ValueError as exc:
        raise LadderError(f"{at}: {exc}") from None


def _check_claims(spec: ExperimentSpec, source: str) -> None:
    """Each claim parses, and names rungs that exist and metrics those rungs have."""
    rungs = {r.name: r for r in spec.rungs}
    for i, claim in enumerate(spec.claims):
        at = f"{source}: claims[{i}].check"
        try:
            check = claims.parse(claim.check)
        except ValueError as exc:
            raise LadderError(f"{at}: {exc}") from None
        for ref in check.refs():
            _choice(ref.rung, rungs, at, "rung")
            if not spec.has_metric(rungs[ref.rung], ref.metric):
                _choice(ref.metric, spec.metrics(rungs[ref.rung]), f"{at} ({ref.rung})", "metric")


def load(path: str | Path) -> ExperimentSpec:
    """Read and validate an experiment file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LadderError(f"{path}: cannot read the experiment file ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LadderError(f"{path}: not valid TOML: {exc}") from None
    dataset = data.get("dataset")
    if isinstance(dataset, dict) and isinstance(dataset.get("path"), str):
        # A data file that an experiment file names is found beside it, wherever ladder runs.
        dataset["path"] = str(path.parent / dataset["path"])
    return validate(data, str(path))
