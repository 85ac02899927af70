"""Turn a rung's spec (features + model + training settings) into a scikit-learn estimator.

The builders import scikit-learn and PyTorch when they are called, not before: reading and
checking an experiment file, or listing what is built in, needs neither.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .features import FEATURES


Activation = Literal["relu", "tanh", "sigmoid", "identity"]
# The constraints an experiment file is checked against when it is read, before anything trains.
Widths = list[Annotated[int, Field(ge=1)]]  # hidden units per layer ([]: no hidden layer)
Positive = Annotated[float, Field(gt=0)]
Steps = Annotated[int, Field(ge=1)]


def _torch(module):
    def build(task, seed, device, train, **params):
        from .estimators import TorchClassifier, TorchRegressor

        cls = TorchClassifier if task == "classification" else TorchRegressor
        return cls(module=module, random_state=seed, device=device, **train, **params)
    return build


def _sk_linear(task, seed, device, train):
    from sklearn.linear_model import LinearRegression

    return LinearRegression()


def _manual_linear(task, seed, device, train):
    train = dict(train)
    if train.get("optimizer", "sgd") != "sgd" or train.get("batch_size") is not None:
        raise ValueError("the manual backend is plain full-batch gradient descent: use "
                         "optimizer = \"sgd\" and batch_size = \"full\"")
    from .glassbox import GlassBoxLinearRegression

    return GlassBoxLinearRegression(epochs=train.get("epochs", 200), lr=train.get("lr", 0.01),
                                    zero_grad=train.get("zero_grad", True), random_state=seed)


def _sk_logistic(task, seed, device, train, C: Positive = 1.0, max_iter: Steps = 1000):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=max_iter)


def _sk_mlp(task, seed, device, train, hidden: Widths = (100,), activation: Activation = "relu",
            max_iter: Steps = 2000):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = MLPClassifier if task == "classification" else MLPRegressor
    act = {"sigmoid": "logistic"}.get(activation, activation)
    return cls(hidden_layer_sizes=tuple(hidden), activation=act, max_iter=max_iter, random_state=seed)


def _torch_linear(task, seed, device, train):
    return _torch("linear")(task, seed, device, train)


def _torch_mlp(task, seed, device, train, hidden: Widths = (64,), activation: Activation = "relu"):
    return _torch("mlp")(task, seed, device, train, hidden=tuple(hidden), activation=activation)


def _torch_stacked(task, seed, device, train, hidden: Widths = (500,)):
    return _torch("stacked_linear")(task, seed, device, train, hidden=tuple(hidden))


def _torch_cnn(task, seed, device, train):
    return _torch("cnn")(task, seed, device, train)


def _torch_cnn1d(task, seed, device, train):
    return _torch("cnn1d")(task, seed, device, train)


#: kind → (one-line description, the tasks it serves, {backend: builder}); the first backend is the default.
MODELS = {
    "linear": ("linear regression, y = θ·x", {"regression"},
               {"sklearn": _sk_linear, "torch": _torch_linear, "manual": _manual_linear}),
    "logistic": ("logistic regression, p = σ(θ·x) (softmax for several classes)", {"classification"},
                 {"sklearn": _sk_logistic, "torch": _torch_linear}),
    "mlp": ("multi-layer perceptron: hidden layers learn the features", {"classification", "regression"},
            {"torch": _torch_mlp, "sklearn": _sk_mlp}),
    "stacked_linear": ("linear layers with no activation: deep, yet still a line",
                       {"classification", "regression"}, {"torch": _torch_stacked}),
    "cnn": ("SimpleCNN: two conv-ReLU-pool blocks and two linear layers", {"classification"},
            {"torch": _torch_cnn}),
    "cnn1d": ("SignalCNN: three strided conv1d-ReLU layers and a linear layer, for 1-D signals",
              {"classification"}, {"torch": _torch_cnn1d}),
}


def default_backend(kind: str) -> str:
    """The backend a model kind gets when the spec names none: the first of MODELS[kind]."""
    return next(iter(MODELS[kind][2]))


def backend_of(model: dict) -> str:
    """The backend of a rung's model spec ({"kind": …, "backend": …?}), its kind's default if none."""
    return model.get("backend") or default_backend(model["kind"])


def build_estimator(task: str, features: dict | None, model: dict, train: dict | None,
                    seed: int, device: str):
    """The estimator for one rung: `features` and `model` are {"kind": …, **params} dicts."""
    params = dict(model)
    kind, backend = params.pop("kind"), params.pop("backend", None) or default_backend(model["kind"])
    estimator = MODELS[kind][2][backend](task, seed, device, dict(train or {}), **params)
    if features:
        from sklearn.pipeline import make_pipeline

        fparams = dict(features)
        phi = FEATURES[fparams.pop("kind")](**fparams)
        return make_pipeline(phi, estimator)
    return estimator
