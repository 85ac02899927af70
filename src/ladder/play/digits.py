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

from .. import models
from .mnist_input import to_mnist

ROLES = {"linear": "LinearNet", "mlp": "MLP", "cnn": "SimpleCNN"}
RUNGS = {"linear": "logreg-torch", "mlp": "mlp", "cnn": "cnn"}  # their names in mnist.toml
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081  # the estimators' normalisation of uint8 pixels


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


def read_folder(folder: Path) -> dict[str, torch.nn.Module]:
    """The linear, MLP and CNN digit models in `folder` (a run, or its models/ folder)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    folder = Path(folder)
    folder = folder / "models" if (folder / "models").is_dir() else folder
    found: dict[str, torch.nn.Module] = {}
    # mnist--*.safetensors first: a run may also hold other experiments' 784-input models.
    for path in sorted(folder.glob("*.safetensors"), key=lambda p: not p.name.startswith("mnist--")):
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        role = next((r for r, m in ROLES.items() if m == metadata.get("module")), None)
        if role is None or role in found or metadata.get("n_features") != "784":
            continue
        module = build(metadata)
        try:
            module.load_state_dict(load_file(str(path)))
        except RuntimeError as exc:  # weights of another shape under an MNIST model's name
            first = str(exc).strip().splitlines()[-1].strip()
            raise ValueError(f"{path}: these weights do not fit a 28×28 MNIST model ({first}); "
                             f"write the models with `ladder run mnist --out DIR`") from None
        found[role] = module.eval()
    missing = [r for r in ROLES if r not in found]
    if missing:
        raise FileNotFoundError(f"{folder}: no MNIST {', '.join(missing)} model here; "
                                f"write one with `ladder run mnist --out DIR`")
    return found


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
                    "trained": _trained_with(plans[role], n_train)}
        save_file(tensors, str(cache / f"mnist--{name}.safetensors"), metadata=metadata)
        found[role] = module
    return found


class Digits:
    """The three digit models, asked together about one drawing."""

    def __init__(self, modules: dict[str, torch.nn.Module]):
        self.modules = modules
        try:  # models of another input size would fail on every drawing: refuse them here
            with torch.inference_mode():
                x = torch.zeros(1, 1, 28, 28)
                for role, module in modules.items():
                    module(x if role == "cnn" else x.flatten(1))
            self.templates()
        except RuntimeError as exc:
            raise ValueError(f"these models do not read 28×28 MNIST images ({exc}); "
                             f"give `ladder play --models` a run of the mnist experiment") from None

    def _input(self, image: np.ndarray) -> torch.Tensor:
        return ((torch.from_numpy(image).float() / 255 - PIXEL_MEAN) / PIXEL_STD)[None, None]

    def predict(self, drawing: np.ndarray) -> dict:
        """The 28×28 MNIST-style input, each model's ten probabilities and the CNN's first-layer maps."""
        image = to_mnist(drawing)
        x = self._input(image)
        with torch.inference_mode():
            probs = {role: torch.softmax(m(x if role == "cnn" else x.flatten(1)), 1)[0].tolist()
                     for role, m in self.modules.items()}
            maps = torch.relu(self.modules["cnn"].conv1(x))[0]
        peak = maps.amax(dim=(1, 2), keepdim=True).clamp_min(1e-6)
        return {"type": "digit", "input": image, "probabilities": probs,
                "feature_maps": (maps / peak * 255).round().to(torch.uint8).numpy()}

    def templates(self) -> np.ndarray:
        """The linear model's ten weight templates as (10, 28, 28) uint8, 128 for a zero weight."""
        w = self.modules["linear"].linear.weight.detach().reshape(-1, 28, 28)
        scale = w.abs().amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
        return ((w / scale + 1) * 127.5).round().to(torch.uint8).numpy()
