"""The page's set-up as a ladder experiment, and an experiment's rung as the page's set-up.

`experiment(settings, epoch, …)` is the set-up in the experiment file's schema (the same
`ladder.experiments` reads): the data set, the φ toggles as the `playground` feature map, the
network as the rung "net" trained for the page's epochs with its settings, and the comparison's
rungs and claims. `toml_text` writes it, `python_text` writes the same set-up with ladder's
library, and `settings_of(spec, rung)` goes back: the page's settings for a rung of a file, or
ExportError saying why the page cannot show it.
"""

from __future__ import annotations

import inspect
import json
import re

from ..data import DATASETS
from ..data.playground import CLASSIFICATION, REGRESSION
from .compare import CLAIMS, YOUR_PHI
from .settings import Limits, check

NET = "net"  # the rung of an exported file that is the page's network


class ExportError(ValueError):
    """A rung the page cannot show; its text says why in one line."""


# -- the page → an experiment file -----------------------------------------------------------
def experiment(settings: dict, epoch: int, task: str, csv_name: str | None = None) -> dict:
    """The set-up as an experiment (a dict in the file's schema), trained for `epoch` epochs.

    `csv_name` is the file the page's CSV is saved as, beside the experiment file.
    """
    s = settings
    classification = task == "classification"
    pattern = s["dataset"]
    if pattern == "csv":
        dataset = {"name": "csv", "path": csv_name, "task": task, "test_size": _test_size(s), "seed": s["seed"]}
    else:
        dataset = {"name": "playground", "pattern": pattern, "n": s["points"], "noise": s["noise"],
                   **({"classes": s["classes"]} if pattern == "blobs" else {}),
                   "test_size": _test_size(s), "seed": s["seed"]}
    train = {"epochs": max(epoch, 1), "optimizer": "sgd", "lr": s["lr"], "batch_size": s["batch_size"]}
    if s["regularization"] == "l2":
        train["weight_decay"] = s["reg_rate"]
    elif s["regularization"] == "l1":
        train["l1"] = s["reg_rate"]
    phi = {"kind": "playground", "inputs": list(s["features"])}
    line = {"kind": "logistic" if classification else "linear", "backend": "sklearn"}
    hidden = list(s["hidden"]) or [8, 8]  # the comparison's MLP: see compare.py
    rungs = [
        {"name": NET, "features": phi, "model": _network(s), "train": train},
        {"name": "raw", "model": line},
        {"name": "phi", "features": phi, "model": line},
        {"name": "mlp", "model": {"kind": "mlp", "hidden": hidden, "activation": _activation(s["activation"])},
         "train": {"epochs": 500, "optimizer": "adam", "lr": 0.01, "batch_size": "full"}},
    ]
    metric = "test_accuracy" if classification else "test_r2"
    claims = [{"text": text, "check": re.sub(r"\b(raw|phi|mlp)\.score\b", rf"\1.{metric}", check)}
              for text, check in [*CLAIMS.get(pattern, []), YOUR_PHI]]
    return {"name": f"play-{pattern}", "title": f"From ladder play: {pattern}, trained {epoch} epochs",
            "story": _story(s, epoch), "dataset": dataset, "rungs": rungs, "claims": claims}


def _test_size(s: dict) -> float:
    return 1 - s["train_ratio"]  # as the page splits: the very same float


def _activation(name: str) -> str:
    return "identity" if name == "linear" else name


def _network(s: dict) -> dict:
    return {"kind": "mlp", "hidden": list(s["hidden"]), "activation": _activation(s["activation"])}


def _story(s: dict, epoch: int) -> str:
    return (f"The set-up of a ladder play page: the network \"{NET}\" is the page's, trained for {epoch} "
            f"epochs with the same data, seed and batches, so `ladder run` with seed {s['seed']} gives "
            f"the page's test loss and accuracy at epoch {epoch}. The other rungs are the page's comparison.")


def command(filename: str, seed: int) -> str:
    """The command that reproduces the page's numbers from the exported file."""
    return f"ladder run {filename} --seed {seed}"


def toml_text(data: dict, header: str = "") -> str:
    """An experiment dict as TOML text (the few value types an experiment file holds)."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for key in ("name", "title", "story"):
        lines.append(f"{key} = {_value(data[key])}")
    lines.append(f"dataset = {_value(data['dataset'])}")
    for rung in data["rungs"]:
        lines += ["", "[[rungs]]", *(f"{key} = {_value(value)}" for key, value in rung.items())]
    for claim in data["claims"]:
        lines += ["", "[[claims]]", *(f"{key} = {_value(value)}" for key, value in claim.items())]
    return "\n".join(lines) + "\n"


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)  # Python's shortest repr reads back as the same float
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def python_text(data: dict, task: str) -> str:
    """The exported set-up's network as a script with ladder's library: data, φ, estimator, fit, score."""
    dataset = dict(data["dataset"])
    net = next(r for r in data["rungs"] if r["name"] == NET)
    train, model = net["train"], net["model"]
    classification = task == "classification"
    estimator = "TorchClassifier" if classification else "TorchRegressor"
    name = dataset.pop("name")
    args = ", ".join(f"{k}={v!r}" for k, v in dataset.items())
    settings = ", ".join(f"{k}={v!r}" for k, v in train.items())
    score = "test accuracy" if classification else "test R²"
    beside = f"\n# Run it beside {dataset['path']}, the page's CSV." if name == "csv" else ""
    return f"""\
# The page's network with ladder's library: the same data, φ, network, loop and seed as the page.{beside}
from sklearn.pipeline import make_pipeline

from ladder import {estimator}
from ladder.data import load
from ladder.features import playground

data = load({name!r}, {args})
model = make_pipeline(
    playground(inputs={net['features']['inputs']!r}),
    {estimator}(module="mlp", hidden={tuple(model['hidden'])!r}, activation={model['activation']!r},
                {settings}, random_state={dataset['seed']!r}),
)
model.fit(data.X_train, data.y_train)
phi, network = model[:-1], model[-1]
print("test loss", network.loss(phi.transform(data.X_test), data.y_test))
print("{score}", model.score(data.X_test, data.y_test))
"""


# -- an experiment's rung → the page ---------------------------------------------------------
def settings_of(spec, rung_name: str, limits: Limits | None = None) -> tuple[dict, list[str]]:
    """The page's settings for one rung of an experiment, and notes on what the page does otherwise.

    ExportError says why the page cannot show the rung (not 2-D points, a CNN, a scikit-learn model).
    """
    rung = next((r for r in spec.rungs if r.name == rung_name), None)
    if rung is None:
        raise ExportError(f"{spec.name!r} has no rung {rung_name!r}; its rungs: "
                          f"{', '.join(r.name for r in spec.rungs)}")
    network = _model_settings(rung)  # the model first: a CNN is refused as a CNN, whatever its data
    settings, notes = _dataset_settings(spec)
    settings.update(_features_settings(rung), **network)
    train, train_notes = _train_settings(rung, settings)
    settings.update(train)
    try:
        return check(settings, limits or Limits()), notes + train_notes
    except ValueError as exc:
        raise ExportError(f"the page cannot show it: {exc}") from None


def _dataset_settings(spec) -> tuple[dict, list[str]]:
    params = dict(spec.dataset.model_extra or {})
    name = spec.dataset.name
    if name == "playground":
        pattern = params.pop("pattern", "circles")
    elif name in CLASSIFICATION and name != "blobs" and name != "gauss":
        pattern = name
    elif name == "blobs" and isinstance(params.get("centers", 3), int):
        pattern = "blobs"
        params["classes"] = params.pop("centers", 3)
    else:
        raise ExportError(f"the page cannot show the data set {name!r}: it draws 2-D points of "
                          f"{', '.join(CLASSIFICATION + REGRESSION)}")
    defaults = {k: p.default for k, p in inspect.signature(DATASETS[name]).parameters.items()}
    given = {**defaults, **params}
    settings = {"dataset": pattern, "points": given["n"], "noise": given["noise"], "seed": given["seed"],
                "train_ratio": round(1 - given["test_size"], 10)}
    if pattern == "blobs":
        settings["classes"] = given.get("classes", 3)
    notes = [] if name == "playground" else [f"the data is ladder's {name!r} drawn on the page's ±5 plane"
                                             + (" (its blobs on a circle)" if name == "blobs" else "")]
    extra = {k: v for k, v in params.items() if k not in ("n", "noise", "seed", "test_size", "classes")
             and v != defaults.get(k)}
    if extra:
        notes.append(f"the page's {pattern} has no {', '.join(f'{k} = {v}' for k, v in extra.items())}")
    return settings, notes


def _features_settings(rung) -> dict:
    if rung.features is None:
        return {"features": ["x1", "x2"]}
    params = dict(rung.features.model_extra or {})
    if rung.features.kind == "playground":
        return {"features": params.get("inputs", ["x1", "x2"])}
    raise ExportError(f"the page cannot show the feature map {rung.features.kind!r}; it has the "
                      f"toggles of the map \"playground\"")


def _model_settings(rung) -> dict:
    model = rung.model
    params = dict(model.model_extra or {})
    backend = params.pop("backend", None)
    if model.kind in ("cnn", "cnn1d"):
        raise ExportError(f"the page cannot show a CNN; it trains MLPs on 2-D points")
    if backend == "sklearn" or model.kind not in ("mlp", "logistic", "stacked_linear", "linear") \
            or (backend is None and model.kind in ("logistic", "linear")):
        raise ExportError(f"the page cannot show a scikit-learn model; it trains PyTorch MLPs "
                          f"(give a rung with model.kind = \"mlp\")")
    if backend == "manual":
        raise ExportError(f"the page cannot show the hand-written linear regression")
    if model.kind == "mlp":
        activation = params.get("activation", "relu")
        return {"hidden": list(params.get("hidden", [64])),
                "activation": "linear" if activation == "identity" else activation}
    if model.kind == "stacked_linear":
        return {"hidden": list(params.get("hidden", [500])), "activation": "linear"}
    return {"hidden": [], "activation": "linear"}  # a linear or logistic model: no hidden layer


def _train_settings(rung, settings: dict) -> tuple[dict, list[str]]:
    train = rung.train.model_dump(exclude_unset=True) if rung.train else {}
    notes = []
    batch = train.get("batch_size", "full")
    # A batch of all the points is a batch of all the training points: the page takes min(batch, n).
    out = {"lr": train.get("lr", 0.01), "batch_size": settings["points"] if batch == "full" else batch,
           "regularization": "none"}
    if train.get("weight_decay"):
        out.update(regularization="l2", reg_rate=train["weight_decay"])
    elif train.get("l1"):
        out.update(regularization="l1", reg_rate=train["l1"])
    if train.get("optimizer", "adam") != "sgd":
        notes.append(f"the page trains with SGD, the rung with {train.get('optimizer', 'adam')}")
    notes.append(f"the rung trains for {train.get('epochs', 200)} epochs: press play, or step")
    for key in ("schedule", "label_smoothing", "autocast"):
        if train.get(key):
            notes.append(f"the page has no {key} ({train[key]})")
    if train.get("zero_grad") is False:
        notes.append("the page always zeroes its gradients")
    return out, notes


# -- the message ---------------------------------------------------------------------------------
def message(session) -> dict:
    """The `export` reply: the set-up as an experiment file and as Python, and the command to run it."""
    s = session.settings
    task = session.data.task
    csv_name = "play-csv.csv" if s["dataset"] == "csv" else None
    data = experiment(s, session.epoch, task, csv_name)
    filename = f"{data['name']}.toml"
    accuracy = session.accuracy()["accuracy_test"]
    numbers = f"test loss {session.loss_test!r}" + ("" if accuracy is None else f" and test accuracy {accuracy!r}")
    header = (f"Exported by ladder play at epoch {session.epoch}: the page showed {numbers}.\n"
              f"`{command(filename, s['seed'])}` trains the rung \"{NET}\" the same way and gives the same numbers.")
    if session.epoch == 0:
        header += "\nThe page had not trained yet: the file trains one epoch; train on the page, then export again."
    if session.changed_at is not None:
        header += (f"\nThe training settings changed after epoch {session.changed_at}: this file trains every epoch "
                   f"with the last ones, so its numbers differ from the page's.")
    if session.edited_at is not None:
        header += (f"\nA weight was set by hand at epoch {session.edited_at}: this file trains the network as it "
                   f"was drawn from the seed, so its numbers differ from the page's.")
    if csv_name:
        header += f"\nThe data is the page's CSV, saved beside this file as {csv_name}."
    reply = {"type": "export", "filename": filename, "toml": toml_text(data, header), "python": python_text(data, task),
             "command": command(filename, s["seed"]), "epoch": session.epoch}
    if csv_name:
        reply["csv"] = {"filename": csv_name, "text": csv_text(*session.csv, task)}
    return reply


def csv_text(X, y, task: str) -> str:
    """The page's CSV as the page kept it: two feature columns and the label (or target), to the last bit."""
    rows = [f"x1,x2,{'label' if task == 'classification' else 'target'}"]
    rows += [f"{a!r},{b!r},{t!r}" for (a, b), t in zip(X.tolist(), y.tolist())]
    return "\n".join(rows) + "\n"
