"""The shape detective: each layer of a network, its output shape and its parameter arithmetic.

The course asks learners to work out `in_features` for a 28×28 image and to follow a CNN's
shapes layer by layer. `layers(module, in_shape)` does it by running one sample through the
module and writing each layer in the course's form:

    conv1  conv 3×3, 1→16      16×28×28   (3·3·1 + 1)·16 = 160
    ...
    total                                 160 + 4,640 + 200,832 + 1,290 = 206,922
"""

from __future__ import annotations

import math


def layers(module, in_shape: tuple[int, ...]) -> list[dict]:
    """One row per layer, in the order a sample meets them: {"name", "layer", "shape", "params",
    "arithmetic"}; a "flatten" row appears where a layer takes a flattened input, then a "total" row.
    """
    import torch
    from torch import nn

    seen: list[tuple[str, nn.Module, tuple, tuple]] = []
    names = {m: name for name, m in module.named_modules()}

    def record(layer, inputs, output):
        seen.append((names[layer], layer, tuple(inputs[0].shape[1:]), tuple(output.shape[1:])))

    leaves = [m for m in module.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(record) for m in leaves]
    try:
        with torch.no_grad():
            was_training = module.training
            module.eval()
            module(torch.zeros(1, *_sample_shape(module, in_shape)))
            module.train(was_training)
    finally:
        for hook in hooks:
            hook.remove()
    rows, previous = [], tuple(in_shape)
    for name, layer, shape_in, shape_out in seen:
        if len(shape_in) == 1 and len(previous) > 1:
            rows.append(_flatten_row(previous, shape_in))
        rows.append(_row(name, layer, shape_out))
        previous = shape_out
    params = [r["params"] for r in rows if r["params"]]
    rows.append({"name": "total", "layer": "", "shape": "", "params": sum(params),
                 "arithmetic": f"{' + '.join(f'{p:,}' for p in params)} = {sum(params):,}"})
    return rows


def _sample_shape(module, in_shape) -> tuple[int, ...]:
    """What one sample looks like to the module: a CNN wants a channel axis before H × W."""
    from torch import nn

    if any(isinstance(m, nn.Conv2d) for m in module.modules()) and len(in_shape) == 2:
        return (1, *in_shape)
    return tuple(in_shape)


def _shape(shape: tuple) -> str:
    return "×".join(str(s) for s in shape)


def _flatten_row(shape_in: tuple, shape_out: tuple) -> dict:
    return {"name": "flatten", "layer": "flatten", "shape": _shape(shape_out), "params": 0,
            "arithmetic": f"{'·'.join(str(s) for s in shape_in)} = {math.prod(shape_in):,} inputs"}


def _row(name: str, layer, shape_out: tuple) -> dict:
    from torch import nn

    params = sum(p.numel() for p in layer.parameters())
    if isinstance(layer, nn.Conv2d):
        kh, kw = layer.kernel_size
        c_in, c_out = layer.in_channels, layer.out_channels
        bias = " + 1" if layer.bias is not None else ""
        what = f"conv {kh}×{kw}, {c_in}→{c_out}"
        arithmetic = f"({kh}·{kw}·{c_in}{bias})·{c_out} = {params:,}"
    elif isinstance(layer, nn.Conv1d):
        (k,), (stride,) = layer.kernel_size, layer.stride
        c_in, c_out = layer.in_channels, layer.out_channels
        bias = " + 1" if layer.bias is not None else ""
        what = f"conv {k}, {c_in}→{c_out}" + (f", stride {stride}" if stride > 1 else "")
        arithmetic = f"({k}·{c_in}{bias})·{c_out} = {params:,}"
    elif isinstance(layer, nn.Linear):
        bias = " + 1" if layer.bias is not None else ""
        what = f"linear {layer.in_features:,}→{layer.out_features:,}"
        arithmetic = f"({layer.in_features:,}{bias})·{layer.out_features:,} = {params:,}"
    elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
        k = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
        what, arithmetic = f"{'max' if isinstance(layer, nn.MaxPool2d) else 'mean'}-pool {k}×{k}", "no weights"
    else:
        what, arithmetic = type(layer).__name__.lower(), "no weights" if not params else f"{params:,}"
    return {"name": name, "layer": what, "shape": _shape(shape_out), "params": params,
            "arithmetic": arithmetic}


def rich_table(rows: list[dict], title: str = ""):
    """The rows as a rich Table, for the terminal."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for heading, justify in (("layer", "left"), ("", "left"), ("output shape", "right"),
                             ("parameters", "right"), ("arithmetic", "left")):
        table.add_column(heading, justify=justify, no_wrap=heading != "arithmetic")
    for row in rows:
        style = "bold" if row["name"] == "total" else None
        table.add_row(row["name"], row["layer"], row["shape"], f"{row['params']:,}", row["arithmetic"],
                      style=style)
    return table


def module_for(target: str, params: dict | None = None, inputs: tuple[int, ...] | None = None,
               outputs: int | None = None):
    """(nn.Module, input shape, title) for `ladder inspect TARGET`.

    TARGET is a rung of an experiment ("mnist:cnn", "my_ladder.toml:mlp"), whose input shape and
    outputs come from its dataset (after its φ), or a model kind ("cnn", "mlp", …) built with
    `params` for `inputs` (default 28×28 for a CNN, 2 otherwise) and `outputs` (default 10 for
    images, else 1). A scikit-learn rung is shown as the same model written as nn.Modules.
    """
    from .errors import LadderError
    from .models import MODULES

    if ":" in target:
        return _rung_module(*target.rsplit(":", 1))
    if target not in MODULES:
        raise LadderError(f"unknown model {target!r}; give a model kind ({', '.join(MODULES)}) or "
                          f"a rung as EXPERIMENT:RUNG (e.g. mnist:cnn)")
    image, signal = target == "cnn", target == "cnn1d"
    in_shape = inputs or ((28, 28) if image else (40,) if signal else (2,))
    n_out = outputs or (10 if image or signal or len(in_shape) > 1 else 1)
    try:
        module = MODULES[target](in_shape, n_out, **(params or {}))
    except (TypeError, ValueError) as exc:
        raise LadderError(f"{target}: {exc}") from None
    return module, in_shape, f"{target} on inputs of {_shape(in_shape)}, {n_out} output{'s' * (n_out > 1)}"


def _rung_module(experiment: str, rung_name: str):
    from . import experiments
    from .errors import LadderError
    from .models import MODULES

    spec = experiments.resolve(experiment)
    rung = next((r for r in spec.rungs if r.name == rung_name), None)
    if rung is None:
        raise LadderError(f"{experiment}: no rung {rung_name!r}; its rungs: "
                          f"{', '.join(r.name for r in spec.rungs)}")
    kind = {"logistic": "linear"}.get(rung.model.kind, rung.model.kind)
    params = {k: v for k, v in (rung.model.model_extra or {}).items()
              if k in ("hidden", "activation", "channels")}
    if kind == "linear":
        params = {}
    dataset = _declared_sample(spec)
    in_shape = _inputs_after_features(rung, dataset)
    n_classes = dataset.n_classes or 1
    n_out = 1 if n_classes <= 2 else n_classes
    module = MODULES[kind](in_shape, n_out, **params)
    return module, in_shape, f"{spec.name}:{rung.name} ({rung.model.kind}, {spec.backend(rung)}) on {dataset.name}"


def _declared_sample(spec):
    """The experiment's dataset, or, where its function declares one sample's shape and its
    classes (MNIST), 200 random samples of that shape: the network needs the shapes, not the
    data, which may have to be downloaded (and a stand-in would give the wrong shapes)."""
    import numpy as np

    from .data import DATASETS, Dataset
    from .experiments import load_dataset

    make = DATASETS[spec.dataset.name]
    if make.shape is None:
        return load_dataset(spec)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (200, *make.shape), dtype=np.uint8)
    y = np.arange(200) % make.classes
    return Dataset(spec.dataset.name, make.task, X, X, y, y)


def _inputs_after_features(rung, dataset) -> tuple[int, ...]:
    """One sample's shape as the model sees it: the image for a CNN, else the row after φ."""
    if rung.model.kind == "cnn":
        return tuple(dataset.X_train.shape[1:])
    if rung.features is None:
        return (dataset.n_features,)
    from .features import FEATURES

    params = dict(rung.features.model_dump())
    phi = FEATURES[params.pop("kind")](**params)
    sample = dataset.rows("train")[:200]
    return (phi.fit_transform(sample, dataset.y_train[:200]).shape[1],)
