"""The experiment file (TOML): read it, check every key, and explain each mistake in one line.

An error names the file, the key path (rungs[2] (mlp).train.epochs) and the valid choices.
"""

from __future__ import annotations

import inspect
import itertools
import re
import tomllib
import typing
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, create_model

from .. import claims
from ..data import DATASETS
from ..errors import LadderError
from ..features import FEATURES
from ..rungs import MODELS, build_estimator

TASK_METRICS = {
    "classification": ["test_accuracy", "train_accuracy"],
    "regression": ["test_r2", "test_mse", "train_r2", "train_mse"],
}
COMMON_METRICS = ["n_features", "n_params", "fit_seconds"]
TORCH_METRICS = ["final_loss", "loss_drops"]
LINEAR_METRICS = ["w1", "w2", "…", "b"]  # single-output linear models with up to 10 inputs
_COEFFICIENT = re.compile(r"^(w([1-9]|10)|b)$")


class _Strict(BaseModel):
    # strict: `epochs = "10"` or `epochs = true` is a mistake to report, not a value to convert.
    model_config = ConfigDict(extra="forbid", strict=True)


class TrainSpec(_Strict):
    """How a PyTorch rung is trained (a scikit-learn rung rejects it). Defaults are the estimators'."""
    epochs: int = Field(200, ge=1)
    optimizer: Literal["sgd", "adam"] = "adam"
    lr: float = Field(0.01, gt=0)
    batch_size: Literal["full"] | typing.Annotated[int, Field(ge=1)] = "full"
    weight_decay: float = Field(0.0, ge=0)
    schedule: Literal["onecycle"] | None = None
    zero_grad: bool = True
    autocast: bool = False
    channels_last: bool = False

    def estimator_params(self) -> dict:
        """The settings the file gives, as estimator parameters (the rest keep their defaults)."""
        params = self.model_dump(exclude_unset=True)
        if params.get("batch_size") == "full":
            params["batch_size"] = None
        return params


class Component(BaseModel):
    """{kind = "…", **params}: a feature map or a model."""
    model_config = ConfigDict(extra="allow")
    kind: str


class DatasetSpec(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str


class RungSpec(_Strict):
    name: str = Field(pattern=r"^\S+$")
    features: Component | None = None
    model: Component
    train: TrainSpec | None = None
    # {"model.hidden": [[2], [3]]}: this rung stands for one rung per value (see expand_sweeps)
    sweep: dict[str, list] | None = None
    swept: dict | None = None  # set on each expanded rung: the values it was given


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
                loc, kind, message = _first_error(exc)
                raise LadderError(f"{at} ({data['name']}): {_where(loc, data)}: "
                                  f"{_pydantic_message(kind, message, RungSpec, loc)}") from None
    return expanded


class ClaimSpec(_Strict):
    text: str
    check: str


class ExperimentSpec(_Strict):
    _source: str = PrivateAttr("<spec>")  # the file it came from, for error messages
    name: str
    title: str = ""
    story: str = ""
    dataset: DatasetSpec
    rungs: list[RungSpec] = Field(min_length=1)
    claims: list[ClaimSpec] = []

    @property
    def source(self) -> str:
        return self._source

    @property
    def task(self) -> str:
        return _dataset_task(self.dataset.name)

    def component_params(self, component: BaseModel) -> dict:
        return dict(component.model_extra or {})

    def backend(self, rung: RungSpec) -> str:
        params = rung.model.model_extra or {}
        return params.get("backend") or next(iter(MODELS[rung.model.kind][2]))

    def metrics(self, rung: RungSpec) -> list[str]:
        """The metric names a claim may use on this rung."""
        names = TASK_METRICS[self.task] + COMMON_METRICS
        if self.backend(rung) in ("torch", "manual"):
            names += TORCH_METRICS
        if self.task == "classification":
            names += ["boundary_linearity"]
        if rung.model.kind in ("linear", "logistic"):
            names += LINEAR_METRICS
        return names

    def has_metric(self, rung: RungSpec, metric: str) -> bool:
        names = self.metrics(rung)
        return metric in names or ("…" in names and bool(_COEFFICIENT.match(metric)))


def _dataset_task(name: str) -> str:
    return DATASETS[name].task


# -- validation --------------------------------------------------------------------------------
def _field_path(loc: tuple) -> tuple:
    """A location without pydantic's union tags: ('train', 'batch_size', "literal['full']") → the first two."""
    return tuple(k for k in loc if isinstance(k, int) or ("[" not in k and k not in _TYPE_TAGS))


_TYPE_TAGS = {"int", "float", "str", "bool", "list", "dict", "none", "constrained-int", "constrained-float"}


def _first_error(exc: ValidationError) -> tuple[tuple, str, str]:
    """The first mistake: its field path, its type, and every alternative's message joined by "or"."""
    errors = exc.errors()
    path = _field_path(errors[0]["loc"])
    same = [e for e in errors if _field_path(e["loc"]) == path]
    messages = list(dict.fromkeys(e["msg"][0].lower() + e["msg"][1:] for e in same))
    return path, same[0]["type"], " or ".join(messages)


def _where(loc: tuple, data: dict) -> str:
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
    return list(model.model_fields)


def _pydantic_message(kind: str, message: str, root: type[BaseModel], loc: tuple) -> str:
    if kind == "extra_forbidden":
        return f"unknown key; valid keys: {', '.join(_fields(root, loc))}"
    if kind == "missing":
        return "missing required key"
    return message


def _check_params(factory, params: dict, where: str, skip: int = 0) -> None:
    """Check keyword arguments against a factory's signature: names, then types."""
    signature = inspect.signature(factory)
    names = [p for p in list(signature.parameters)[skip:] if signature.parameters[p].kind
             is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    hints = typing.get_type_hints(factory)
    for key in params:
        if key not in names:
            valid = ", ".join(names) if names else "none"
            raise LadderError(f"{where}.{key}: unknown parameter; valid parameters: {valid}")
    fields = {n: (hints.get(n, typing.Any), signature.parameters[n].default) for n in names}
    Params = create_model("Params", __config__=ConfigDict(extra="forbid", strict=True), **fields)
    try:
        Params(**params)
    except ValidationError as exc:
        loc, _, message = _first_error(exc)
        raise LadderError(f"{where}.{'.'.join(str(k) for k in loc)}: {message}") from None


def _choice(value: str, choices, where: str, what: str) -> None:
    if value not in choices:
        raise LadderError(f"{where}: unknown {what} {value!r}; choose one of: {', '.join(choices)}")


def validate(data: dict, source: str = "<spec>") -> ExperimentSpec:
    """Turn a parsed TOML dict into an ExperimentSpec, or raise LadderError naming the mistake."""
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        loc, kind, message = _first_error(exc)
        raise LadderError(f"{source}: {_where(loc, data)}: "
                          f"{_pydantic_message(kind, message, ExperimentSpec, loc)}") from None

    spec._source = source
    spec.rungs = expand_sweeps(spec.rungs, source)
    _choice(spec.dataset.name, DATASETS, f"{source}: dataset.name", "dataset")
    _check_params(DATASETS[spec.dataset.name], spec.dataset.model_extra or {}, f"{source}: dataset")
    task = spec.task
    seen = set()
    for i, rung in enumerate(spec.rungs):
        at = f"{source}: rungs[{i}] ({rung.name})"
        if rung.name in seen:
            raise LadderError(f"{at}.name: two rungs are called {rung.name!r}; names must be unique")
        seen.add(rung.name)
        if rung.features is not None:
            _choice(rung.features.kind, FEATURES, f"{at}.features.kind", "feature map")
            _check_params(FEATURES[rung.features.kind], rung.features.model_extra or {}, f"{at}.features")
        _choice(rung.model.kind, MODELS, f"{at}.model.kind", "model")
        description, tasks, builders = MODELS[rung.model.kind]
        if task not in tasks:
            raise LadderError(f"{at}.model.kind: {rung.model.kind!r} does not do {task} "
                              f"(dataset {spec.dataset.name!r}); use one of: "
                              f"{', '.join(k for k, m in MODELS.items() if task in m[1])}")
        params = dict(rung.model.model_extra or {})
        backend = params.pop("backend", next(iter(builders)))
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
    return spec


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
    return validate(data, str(path))
