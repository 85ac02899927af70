"""Draw a digit: part 4's linear model, MLP and CNN, read from a run or trained once and cached.

A run's `models/*.safetensors` (written by `ladder run --out`) carry the model spec in their
metadata; without a run the three PyTorch rungs of the built-in `mnist` experiment are trained
once, with the experiment's own settings, and cached the same way. Never a pickle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .. import inside, models
from .mnist_input import to_mnist
from .protocol import MessageError, grid

ROLES = {"linear": "LinearNet", "mlp": "MLP", "cnn": "SimpleCNN"}
RUNGS = {"linear": "logreg-torch", "mlp": "mlp", "cnn": "cnn"}  # their names in mnist.toml
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081  # the estimators' normalisation of uint8 pixels
DRAW_SIDE = 112  # the page sends its drawing as DRAW_SIDE × DRAW_SIDE uint8 ink


def build(metadata: dict) -> torch.nn.Module:
    """The empty module a safetensors file's metadata describes (see results.save_torch_models)."""
    spec = json.loads(metadata["model"])
    n_outputs = len(json.loads(metadata.get("classes") or "null") or range(10))
    name = metadata["module"]
    if name == "SimpleCNN":
        return models.SimpleCNN((28, 28), n_outputs)
    if name == "MLP":
        return models.MLP((784,), n_outputs, hidden=tuple(spec.get("hidden", (64,))),
                          activation=spec.get("activation", "relu"))
    return models.LinearNet((784,), n_outputs)


class MissingModels(FileNotFoundError):
    """A folder without one of the three digit models; `found` holds those it has."""

    def __init__(self, message: str, found: dict[str, torch.nn.Module]):
        super().__init__(message)
        self.found = found


def _models_folder(folder: Path) -> Path:
    folder = Path(folder)
    return folder / "models" if (folder / "models").is_dir() else folder


def _mnist_models(folder: Path):
    """(path, metadata) of each 784-input model in `folder`, mnist--*.safetensors first: a run may
    also hold other experiments' MNIST models."""
    from safetensors import safe_open

    for path in sorted(folder.glob("*.safetensors"), key=lambda p: (not p.name.startswith("mnist--"), p.name)):
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        if metadata.get("module") in ROLES.values() and metadata.get("n_features") == "784":
            yield path, metadata


def _load(path: Path, metadata: dict) -> torch.nn.Module:
    from safetensors.torch import load_file

    module = build(metadata)
    try:
        module.load_state_dict(load_file(str(path)))
    except RuntimeError as exc:  # weights of another shape under an MNIST model's name
        first = str(exc).strip().splitlines()[-1].strip()
        raise ValueError(f"{path}: these weights do not fit a 28×28 MNIST model ({first}); "
                         f"write the models with `ladder run mnist --out DIR`") from None
    return module.eval()


def read_folder(folder: Path) -> dict[str, torch.nn.Module]:
    """The linear, MLP and CNN digit models in `folder` (a run, or its models/ folder); a missing
    one is a MissingModels error that carries the others."""
    folder = _models_folder(folder)
    found: dict[str, torch.nn.Module] = {}
    for path, metadata in _mnist_models(folder):
        role = next(r for r, m in ROLES.items() if m == metadata["module"])
        if role not in found:
            found[role] = _load(path, metadata)
    missing = [r for r in ROLES if r not in found]
    if missing:
        raise MissingModels(f"{folder}: no MNIST {', '.join(missing)} model here; "
                            f"write one with `ladder run mnist --out DIR`", found)
    return found


def read_cnns(folder: Path) -> dict[str, dict]:
    """Every 28×28 CNN of a run, as "experiment:rung" → {"module", "accuracy"}: part 4's `cnn`,
    part 5's `cnn+aug`, a CNN rung of the user's own experiment file. The accuracy is the first
    seed's test accuracy in the run's results.json (the saved weights are that seed's), or None."""
    folder = _models_folder(folder)
    results = folder.parent / "results.json" if folder.name == "models" else folder / "results.json"
    accuracies = {}
    if results.is_file():
        for experiment in json.loads(results.read_text()).get("experiments", []):
            for rung in experiment.get("rungs", []):
                values = ((rung.get("metrics") or {}).get("test_accuracy") or {}).get("values") or [None]
                accuracies[f"{experiment['name']}:{rung['name']}"] = values[0]
    cnns = {}
    for path, metadata in _mnist_models(folder):
        if metadata["module"] == ROLES["cnn"]:
            name = path.stem.replace("--", ":", 1)
            # The playground's own cache has no results.json: its models carry their accuracy.
            accuracy = accuracies.get(name, json.loads(metadata.get("test_accuracy", "null")))
            cnns[name] = {"module": _load(path, metadata), "accuracy": accuracy}
    return cnns


def training_plans(epochs: int | None = None) -> dict[str, dict]:
    """role → the estimator settings mnist.toml gives that rung; `epochs` replaces its epochs."""
    from .. import experiments

    spec = {rung.name: rung for rung in experiments.resolve("mnist").rungs}
    plans = {role: spec[name].train.estimator_params() for role, name in RUNGS.items()}
    for plan in plans.values():
        plan["epochs"] = epochs or plan["epochs"]
    return plans


def _trained_with(plan: dict, n_train: int | None) -> str:
    """How a cached model was trained, as its safetensors metadata records it."""
    return json.dumps({"train": plan, "n_train": n_train}, sort_keys=True)


def cache_is_current(cache: Path, n_train: int | None = None, epochs: int | None = None) -> bool:
    """Whether every cached model was trained as mnist.toml says now: a newer ladder may train
    them otherwise (part 4's CNN went from two epochs to one with label smoothing)."""
    from safetensors import safe_open

    for role, plan in training_plans(epochs).items():
        path = Path(cache) / f"mnist--{RUNGS[role]}.safetensors"
        if not path.exists():
            return False
        with safe_open(str(path), framework="pt") as f:
            if (f.metadata() or {}).get("trained") != _trained_with(plan, n_train):
                return False
    return True


def train_and_cache(cache: Path, progress: Callable[[int, int, str], None] | None = None,
                    n_train: int | None = None, epochs: int | None = None) -> dict[str, torch.nn.Module]:
    """Train part 4's three PyTorch rungs on MNIST as mnist.toml says, save them in `cache`.

    `n_train` and `epochs` shorten the training (the tests use them); the defaults are the
    experiment's. `progress(done, total, what)` follows every epoch.
    """
    from safetensors.torch import save_file

    from .. import data, experiments
    from ..rungs import build_estimator

    spec = {rung.name: rung for rung in experiments.resolve("mnist").rungs}
    # No 8×8 stand-in: the page draws 28×28 digits, and models of another size saved under
    # MNIST's name would stay in the cache. Without MNIST the page says how to get it.
    mnist = data.load("mnist", fallback=False).subset(n_train)
    X, y = mnist.rows("train"), mnist.y_train
    plans = training_plans(epochs)
    total, done = sum(p["epochs"] for p in plans.values()), 0
    cache.mkdir(parents=True, exist_ok=True)
    found = {}
    for role, name in RUNGS.items():
        model_spec = spec[name].model.model_dump(exclude_none=True)
        estimator = build_estimator("classification", None, model_spec, plans[role], 0, "cpu")

        def tick(epoch, history, module, role=role, base=done):
            if progress is not None:
                progress(base + epoch + 1, total, f"training the {role} model on MNIST")
        estimator.fit(X, y, callback=tick)
        done += plans[role]["epochs"]
        module = estimator.module_.to(memory_format=torch.contiguous_format).eval()
        tensors = {k: v.detach().contiguous() for k, v in module.state_dict().items()}
        metadata = {"model": json.dumps(model_spec), "module": type(module).__name__, "n_features": "784",
                    "classes": json.dumps(estimator.classes_.tolist()),
                    "trained": _trained_with(plans[role], n_train),
                    "test_accuracy": json.dumps(float(estimator.score(mnist.rows("test"), mnist.y_test)))}
        save_file(tensors, str(cache / f"mnist--{name}.safetensors"), metadata=metadata)
        found[role] = module
    return found


class Digits:
    """The three digit models, asked together about one drawing, and the CNNs a learner may pick.

    `cnns` maps a name ("mnist:cnn") to {"module", "accuracy"}; without it the one CNN of
    `modules` is the only choice.
    """

    def __init__(self, modules: dict[str, torch.nn.Module], cnns: dict[str, dict] | None = None,
                 default: str = "mnist:cnn"):
        self.modules = modules
        self.cnns = cnns or {default: {"module": modules["cnn"], "accuracy": None}}
        self.default = default if default in self.cnns else next(iter(self.cnns))
        try:  # models of another input size would fail on every drawing: refuse them here
            with torch.inference_mode():
                x = torch.zeros(1, 1, 28, 28)
                for role, module in modules.items():
                    module(x if role == "cnn" else x.flatten(1))
            self.templates()
            self.tables = {name: inside.arithmetic(cnn["module"]) for name, cnn in self.cnns.items()}
        except RuntimeError as exc:
            raise ValueError(f"these models do not read 28×28 MNIST images ({exc}); "
                             f"give `ladder play --models` a run of the mnist experiment") from None

    def _input(self, image: np.ndarray) -> torch.Tensor:
        return ((torch.from_numpy(image).float() / 255 - PIXEL_MEAN) / PIXEL_STD)[None, None]

    def choices(self) -> list[dict]:
        """The CNNs the page's picker lists, each with its run's test accuracy (None if unknown)."""
        return [{"name": name, "accuracy": cnn["accuracy"]} for name, cnn in self.cnns.items()]

    def request(self, message: dict) -> tuple[np.ndarray, str, tuple[float, float, float]]:
        """A "digit" or "conv" message's drawing (112×112 ink), chosen CNN and move, checked."""
        pixels = grid(message.get("pixels"), DRAW_SIDE)
        name = message.get("model", self.default)
        if name not in self.cnns:
            raise MessageError(f"model {name!r}: no such CNN here; choose one of {', '.join(self.cnns)}")
        move = message.get("move", {}) or {}
        if not isinstance(move, dict) or set(move) - {"dx", "dy", "degrees"}:
            raise MessageError('move must be {"dx": pixels, "dy": pixels, "degrees": angle}')
        limits = {"dx": inside.MAX_SHIFT, "dy": inside.MAX_SHIFT, "degrees": inside.MAX_TURN}
        values = []
        for key, limit in limits.items():
            value = move.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not -limit <= value <= limit:
                raise MessageError(f"move.{key} must be a number from {-limit} to {limit}, got {value!r}")
            values.append(float(value))
        return pixels, name, tuple(values)

    def _image(self, pixels: np.ndarray, move: tuple[float, float, float]) -> np.ndarray:
        return inside.moved(to_mnist(pixels), *move)

    def predict(self, drawing: np.ndarray, model: str | None = None,
                move: tuple[float, float, float] = (0, 0, 0)) -> dict:
        """The 28×28 MNIST-style input (moved by `move`: dx, dy, degrees), each model's ten
        probabilities, the CNN's first-layer maps and every layer of the chosen CNN."""
        name = model or self.default
        cnn = self.cnns[name]["module"]
        image = self._image(drawing, move)
        x = self._input(image)
        outputs = inside.layer_outputs(cnn, x)  # its last step is the CNN's scores: one forward pass
        with torch.inference_mode():
            probs = {role: torch.softmax(self.modules[role](x.flatten(1)), 1)[0].tolist() for role in ("linear", "mlp")}
            probs["cnn"] = torch.softmax(outputs["fc2"], 0).tolist()
        steps = inside.layers(cnn, x, self.tables[name], outputs)
        return {"type": "digit", "model": name, "move": list(move), "input": image, "probabilities": probs,
                "feature_maps": steps[1]["grid"], "layers": steps}

    def convolution(self, message: dict) -> dict:
        """The "conv" reply: how one pixel of one map of the chosen CNN's conv1 or conv2 was made."""
        pixels, name, move = self.request(message)
        cnn = self.cnns[name]["module"]
        layer = message.get("layer")
        if layer not in inside.CONVS:
            raise MessageError(f"layer must be one of {', '.join(inside.CONVS)}, got {layer!r}")
        conv = getattr(cnn, layer)
        side = 28 if layer == "conv1" else 14
        for key, top in (("map", conv.out_channels), ("row", side), ("col", side)):
            value = message.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < top:
                raise MessageError(f"{key} must be a whole number from 0 to {top - 1} for {layer}, got {value!r}")
        x = self._input(self._image(pixels, move))
        return {**inside.dot_product(cnn, x, layer, message["map"], message["row"], message["col"]), "model": name}

    def templates(self) -> np.ndarray:
        """The linear model's ten weight templates as (10, 28, 28) uint8, 128 for a zero weight."""
        w = self.modules["linear"].linear.weight.detach().reshape(-1, 28, 28)
        scale = w.abs().amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
        return ((w / scale + 1) * 127.5).round().to(torch.uint8).numpy()
