"""One playground session: data, φ toggles, network and optimizer; no web code in here.

`apply(message)` changes the state, `step()` trains one epoch with ladder's own loop (`advance()`
some batches of one, as many as fit between two frames), and `frame()` returns what the page draws as
plain numbers and uint8 arrays.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..estimators import PREDICT_CHUNK
from ..models import MLP, seeded
from ..train import Diverged, make_loss, train
from . import datasets, export
from .compare import compare
from .phi import phi
from .settings import DATA_KEYS, DEFAULTS, NETWORK_KEYS, Limits, check

BOUNDARY = 100  # the heat map is BOUNDARY × BOUNDARY cells over the plane
THUMB = 20  # each feature's and hidden unit's thumbnail
# A loss twice the untrained network's has exploded: measured over 60 epochs of every data set,
# learning rates up to 1 never passed 1.14× (classification) while 3 and 10 reached 1.7× to 9×.
EXPLODES = 2
#: The largest weight or bias a learner may set by hand: a typo (1e9) is refused in one line
#: instead of sending the loss to infinity.
MAX_WEIGHT = 100
DIGITS = 3  # significant digits of the weights a frame carries: what the page shows
#: A frame carries every weight while the network has at most this many (about 7 KB of JSON, 0.4×
#: the default network's 18 KB frame); a larger network's playing frames carry them every
#: ⌈weights / WEIGHTS_PER_FRAME⌉-th frame, so they add about that much a frame on average (the
#: largest network, 7 φ → 6 × 64 → 10 classes, has 21,568: 160 KB, which would make its 261 KB frame 1.6×).
WEIGHTS_PER_FRAME = 1024


class PlayError(ValueError):
    """A message the session cannot act on; its text is the one line sent back to the client."""


def plane(cells: int) -> np.ndarray:
    """The centres of a cells × cells grid over the plane, row by row from the top (x2 = +6)."""
    edge = datasets.DOMAIN * (1 - 1 / cells)
    x1, x2 = np.meshgrid(np.linspace(-edge, edge, cells), np.linspace(edge, -edge, cells))
    return np.column_stack([x1.ravel(), x2.ravel()])


def to_uint8(values: np.ndarray, low, high) -> np.ndarray:
    """`values` from [low, high] to 0…255; 128 where the range is empty or a value is NaN.

    `low` and `high` may be arrays that broadcast against `values`: one range per column.
    """
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    span = high - low
    with np.errstate(invalid="ignore"):
        full = span > 0
        scaled = np.where(full, (values - low) / np.where(full, span, 1.0), 0.5)
    return np.round(np.clip(np.nan_to_num(scaled, nan=0.5), 0, 1) * 255).astype(np.uint8)


def significant(values: np.ndarray, digits: int = DIGITS) -> np.ndarray:
    """`values` rounded to `digits` significant digits (0 stays 0, NaN stays NaN), so JSON carries 0.123, not 0.12345678."""
    values = np.asarray(values, dtype=float)  # float32's 0.123 would be written 0.12300000339746475
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = digits - 1 - np.floor(np.log10(np.abs(values)))
    shift = np.nan_to_num(shift, nan=0.0, posinf=0.0, neginf=0.0)
    # An integer divided by a power of ten is the double nearest the decimal, which JSON writes short.
    up, down = 10.0 ** np.maximum(shift, 0), 10.0 ** np.maximum(-shift, 0)
    return np.round(values * up / down) / up * down


def thumbnails(columns: np.ndarray) -> np.ndarray:
    """Each column of (THUMB², units), scaled over its own range: (units, THUMB, THUMB) uint8."""
    return to_uint8(columns, columns.min(axis=0), columns.max(axis=0)).T.reshape(-1, THUMB, THUMB)


def describe(shape: tuple) -> str:
    """A network's shape in words: "x1, x2 → 8, 8 → 1"."""
    features, hidden, outputs = shape
    return " → ".join([", ".join(features), *([", ".join(map(str, hidden))] if hidden else []), str(outputs)])


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Session:
    """The state behind one browser tab's "Learn a boundary"."""

    def __init__(self, limits: Limits | None = None, **settings):
        self.limits = limits or Limits()
        self.settings = {**DEFAULTS, **check(settings, self.limits)}
        self.csv: tuple[np.ndarray, np.ndarray] | None = None
        # The network the last run started from (its shape and weights), for "reset to the same
        # weights": set when a network's first epoch begins, so new settings do not replace it.
        self.start: tuple[tuple, dict] | None = None
        self.playing = False
        self._new_data()

    # -- messages -------------------------------------------------------------------------------
    def apply(self, message: dict) -> list[dict]:
        """Act on one client message; return the replies it calls for. PlayError says what is wrong."""
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "set":
            return self._set(message.get("settings"))
        if kind in ("play", "pause"):
            self.playing = kind == "play" and self.diverged is None
            return []
        if kind == "step":
            self.playing = False
            self.step()
            return []
        if kind == "reset":
            self.playing = False
            same = message.get("same_weights", False)
            if not isinstance(same, bool):
                raise PlayError(f"reset: same_weights must be true or false, got {same!r}")
            if same:
                return [self._reset_to_start()]
            self._new_network()
            return []
        if kind == "csv":
            return self._csv(message)
        if kind == "compare":
            return [compare(self.data, self.settings)]
        if kind == "weight":
            return self._weight(message)
        if kind == "export":
            if message.keys() != {"type"}:
                raise PlayError("export takes nothing but its type: send {\"type\": \"export\"}")
            try:
                return [export.message(self)]
            except export.ExportError as exc:
                raise PlayError(str(exc)) from None
        raise PlayError(f"unknown message type {kind!r}; send one of: set, play, pause, step, "
                        f"reset, csv, compare, export, weight")

    def _set(self, settings) -> list[dict]:
        try:
            changed = check(settings, self.limits)
        except ValueError as exc:
            raise PlayError(str(exc)) from None
        if changed.get("dataset") == "csv" and self.csv is None:
            raise PlayError("dataset csv: upload a CSV file first")
        self.settings.update(changed)
        if DATA_KEYS & changed.keys():
            self._new_data()
            return [self.points()]
        if NETWORK_KEYS & changed.keys():
            self._new_network()
        elif changed.keys() & {"lr", "regularization", "reg_rate", "batch_size"} and self.diverged:
            self.diverged = None  # a new learning rate (or penalty) deserves another try
        return []

    def _csv(self, message) -> list[dict]:
        text = message.get("text")
        if not isinstance(text, str):
            raise PlayError("csv: send the file's text as \"text\"")
        if len(text.encode("utf-8")) > self.limits.max_csv_bytes:
            raise PlayError(f"csv: too large, the playground takes files up to {self.limits.max_csv_bytes:,} bytes")
        try:
            X, y, _ = datasets.read_csv(text, max_rows=self.limits.max_points,
                                        label=message.get("label"), features=message.get("features"))
            datasets.from_csv(X, y, 1 - self.settings["train_ratio"], self.settings["seed"])  # checks classes
        except ValueError as exc:
            raise PlayError(f"csv: {exc}") from None
        self.csv = (X, y)
        self.settings["dataset"] = "csv"
        self._new_data()
        return [self.points()]

    def _weight(self, message) -> list[dict]:
        """Set one weight (`from` an index) or one bias (`from` null) of the network by hand, while paused."""
        if self.playing:
            raise PlayError("weight: pause training first; a weight is set by hand only while paused")
        linears = self.linears
        layer = message.get("layer")
        if not _whole(layer) or not 1 <= layer <= len(linears):
            raise PlayError(f"weight: layer must be a whole number from 1 to {len(linears)} "
                            f"(1 joins the inputs to the next column), got {layer!r}")
        weight = linears[layer - 1].weight  # PyTorch's (out, in): row `to`, column `from`
        to, source, value = message.get("to"), message.get("from"), message.get("value")
        if not _whole(to) or not 0 <= to < weight.shape[0]:
            raise PlayError(f"weight: to must be a unit of layer {layer}, from 0 to {weight.shape[0] - 1}, got {to!r}")
        if source is not None and (not _whole(source) or not 0 <= source < weight.shape[1]):
            raise PlayError(f"weight: from must be a unit of the column before layer {layer}, from 0 to "
                            f"{weight.shape[1] - 1}, or null for the bias, got {source!r}")
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
                or abs(value) > MAX_WEIGHT):
            raise PlayError(f"weight: value must be a number between -{MAX_WEIGHT} and {MAX_WEIGHT}, got {value!r}")
        with torch.no_grad():
            if source is None:
                linears[layer - 1].bias[to] = value
            else:
                weight[to, source] = value
        if self.edited_at is None:
            self.edited_at = self.epoch  # an exported file cannot replay a hand-set weight
        self._measure()
        # A hand-set weight may raise the loss: training judges divergence from there on.
        if math.isfinite(self.loss_train):
            self.reference = max(self.reference, self.loss_train)
        return []

    @property
    def linears(self) -> list[torch.nn.Linear]:
        """The network's linear layers, inputs first: layer l (from 1) joins column l-1 to column l."""
        return [m for m in self.net.layers if isinstance(m, torch.nn.Linear)]

    # -- state ----------------------------------------------------------------------------------
    def _new_data(self):
        s = self.settings
        if s["dataset"] == "csv":
            self.data = datasets.from_csv(*self.csv, 1 - s["train_ratio"], s["seed"])
        else:
            self.data = datasets.make(s["dataset"], s["points"], s["noise"], s["train_ratio"], s["seed"],
                                      s["classes"])
        self.classification = self.data.task == "classification"
        labels = np.concatenate([self.data.y_train, self.data.y_test])
        # k classes numbered 0…k-1; two keep one logit (BCE), more get one logit each (softmax).
        self.classes = int(labels.max()) + 1 if self.classification else None
        self.labels = self.data.params.get("labels") or [str(c) for c in range(self.classes or 0)]
        y = np.concatenate([self.data.y_train, self.data.y_test]).astype(float)
        self.y_range = (0.0, 1.0) if self.classification else (float(y.min()), float(y.max()))
        self._new_network()

    def _new_network(self):
        """A fresh network for the current features, layers and activation (seeded: reproducible)."""
        s = self.settings
        features = s["features"]
        self.X_train = torch.from_numpy(phi(self.data.X_train, features))
        self.X_test = torch.from_numpy(phi(self.data.X_test, features))
        if self.softmax:
            self.y_train, self.y_test = (torch.tensor(y, dtype=torch.long) for y in (self.data.y_train, self.data.y_test))
        else:
            self.y_train, self.y_test = (torch.tensor(y, dtype=torch.float32)[:, None]
                                         for y in (self.data.y_train, self.data.y_test))
        self.grid = torch.from_numpy(phi(plane(BOUNDARY), features))
        self.thumb_grid = torch.from_numpy(phi(plane(THUMB), features))
        self.input_units = [{"name": f, "layer": 0, "grid": g}  # the inputs never change: drawn once
                            for f, g in zip(features, thumbnails(self.thumb_grid.numpy()))]
        with seeded(s["seed"]):
            activation = "identity" if s["activation"] == "linear" else s["activation"]
            self.net = MLP((len(features),), self.classes if self.softmax else 1, hidden=tuple(s["hidden"]), activation=activation)
        self.epoch = 0
        self._since_weights = math.inf  # frames since one carried the weights: the next one does
        # Epochs are shuffled as train.py's Batches shuffles them (one generator seeded with the
        # seed, a permutation drawn per epoch): `ladder run` on the exported set-up takes the same batches.
        self._shuffle = torch.Generator().manual_seed(s["seed"])
        self._order: torch.Tensor | None = None  # the epoch under way: its shuffled points,
        self._done = 0  # how many of them it has trained on,
        self._hyper = self._epoch_settings()  # and the settings it trains with
        self.changed_at: int | None = None  # the first epoch trained with other settings than the one before
        self.edited_at: int | None = None  # the first epoch at which a weight was set by hand
        self.diverged: str | None = None
        self._measure()
        self.reference = self.loss_train

    @property
    def shape(self) -> tuple:
        """What a network's weights fit: its inputs (the φ toggles), hidden widths and outputs."""
        return tuple(self.settings["features"]), tuple(self.settings["hidden"]), self.classes if self.softmax else 1

    def _reset_to_start(self) -> dict:
        """A new run from the weights the last run started from, with the settings as they are now.

        So two settings start equal (TensorFlow Playground's #25). The activation, learning rate,
        batch size, penalty and data may differ; the φ toggles, hidden widths and classes must not.
        """
        self._new_network()
        if self.start is None:
            return {"type": "reset", "same_weights": False,
                    "message": "no run has started yet, so this network is the one to train: press step or play"}
        shape, weights = self.start
        if shape != self.shape:
            return {"type": "reset", "same_weights": False,
                    "message": f"the last run's weights do not fit this network ({describe(shape)}, now "
                               f"{describe(self.shape)}): a fresh network starts instead"}
        self.net.load_state_dict(weights)
        self._measure()
        self.reference = self.loss_train
        return {"type": "reset", "same_weights": True,
                "message": f"reset to the weights the last run started from (train loss {self.loss_train:.3f})"}

    # -- training -------------------------------------------------------------------------------
    def step(self) -> None:
        """Train the rest of the epoch under way: one whole epoch when none is."""
        self.advance(None)

    def advance(self, batches: int | None) -> None:
        """Train up to `batches` mini-batches of the epoch under way (None: the rest of it).

        The server draws a frame after each call, so on a busy machine an epoch is shown in
        pieces and the boundary keeps moving. Each epoch's order is drawn when it starts, from
        the seed, and train() takes the batches in that order, so however an epoch is cut the
        network takes the same SGD steps in the same order: a session's numbers never depend on
        timing, and equal those of `ladder run` on its exported set-up.
        Training stops for good when the loss diverges.
        """
        if self.diverged:
            return
        if self._order is None:
            # Settings changed mid-epoch act from the next one: where an epoch was cut never matters.
            hyper = self._epoch_settings()
            if self.epoch and hyper != self._hyper and self.changed_at is None:
                self.changed_at = self.epoch  # an exported file can no longer replay this training
            self._done, self._hyper = 0, hyper
            if self.epoch == 0:  # once a run, never a frame: a copy of a few hundred weights
                self.start = (self.shape, {k: v.clone() for k, v in self.net.state_dict().items()})
            n = len(self.X_train)
            # One batch of everything is never shuffled, and draws nothing (as in train.py).
            self._order = (torch.arange(n) if self._hyper["batch_size"] >= n
                           else torch.randperm(n, generator=self._shuffle))
        s = self._hyper
        size = min(s["batch_size"], len(self.X_train))
        left = -(-(len(self.X_train) - self._done) // size)
        batches = left if batches is None else max(1, min(int(batches), left))
        piece = self._order[self._done:self._done + batches * size]
        try:
            train(self.net, self.X_train[piece], self.y_train[piece], loss=self.loss,
                  optimizer="sgd", lr=s["lr"], epochs=1, batch_size=size, shuffle=False,
                  weight_decay=s["reg_rate"] if s["regularization"] == "l2" else 0.0,
                  l1=s["reg_rate"] if s["regularization"] == "l1" else 0.0)
            self._done += len(piece)
        except Diverged:  # the loss is no longer a number: end the epoch here, its losses say how
            self._done = len(self.X_train)
        if self._done >= len(self.X_train):
            self._end_epoch()

    def _epoch_settings(self) -> dict:
        return {key: self.settings[key] for key in ("batch_size", "lr", "regularization", "reg_rate")}

    @property
    def batches_per_epoch(self) -> int:
        """How many mini-batches an epoch with the current settings has."""
        return -(-len(self.X_train) // min(self.settings["batch_size"], len(self.X_train)))

    def _end_epoch(self) -> None:
        self.epoch += 1
        self._order = None
        self._measure()
        worst = max(self.loss_train, self.loss_test)
        if not math.isfinite(worst) or worst > EXPLODES * max(self.reference, 1e-3):
            how = "became infinite or NaN" if not math.isfinite(worst) else (
                f"exploded to {worst:.3g} from {self.reference:.3g}")
            self.diverged = (f"Diverged at epoch {self.epoch}: the loss {how}. Training stopped; "
                             f"try a lower learning rate (now {self._hyper['lr']:g}), then reset.")
            self.playing = False

    @property
    def softmax(self) -> bool:
        """More than two classes: one logit per class and cross-entropy, not one logit and BCE."""
        return self.classification and self.classes > 2

    @property
    def loss(self) -> str:
        """train.py's name of the loss this task trains with."""
        return ("cross_entropy" if self.softmax else "bce") if self.classification else "mse"

    def _measure(self) -> None:
        """The losses on both splits and, for classes, the test split's confusion matrix."""
        loss = make_loss(self.loss)
        with torch.inference_mode():
            out_train = self.net(self.X_train)
            # In the chunks the estimators predict in: `ladder run` on an exported set-up then puts the
            # same rows through the same matrix products, and its test loss equals this one to the bit.
            out_test = torch.cat([self.net(rows) for rows in self.X_test.split(PREDICT_CHUNK)])
            self.loss_train, self.loss_test = loss(out_train, self.y_train).item(), loss(out_test, self.y_test).item()
        self.confusion = None
        if self.classification:
            predicted = out_test.argmax(1) if self.softmax else (out_test[:, 0] > 0).long()
            true = self.y_test.long().reshape(-1)
            # Row = the true class, column = the predicted one: bincount of true·k + predicted.
            counts = torch.bincount(true * self.classes + predicted, minlength=self.classes ** 2)
            self.confusion = counts.reshape(self.classes, self.classes).numpy()

    def accuracy(self) -> dict:
        """Test accuracy overall and per class (None for a class the test split lacks), from the confusion matrix."""
        if self.confusion is None:
            return {"accuracy_test": None, "class_accuracy": None}
        totals = self.confusion.sum(1)
        per_class = [float(c) / t if t else None for c, t in zip(np.diag(self.confusion), totals)]
        return {"accuracy_test": float(np.trace(self.confusion)) / max(int(totals.sum()), 1),
                "class_accuracy": per_class}

    # -- what the page draws --------------------------------------------------------------------
    def frame(self) -> dict:
        """Epoch, losses, the output over the plane and each unit's thumbnail, as uint8 grids; the
        network's weights and biases to DIGITS digits (in every frame but a large network's playing ones)."""
        with torch.inference_mode():
            out = self.net(self.grid)
            hidden = self.net.hidden_activations(self.thumb_grid)
        classes = {}
        if self.softmax:  # each cell's likeliest class and how likely: the page colours and blends
            out, predicted = torch.softmax(out, dim=1).max(dim=1)
            classes["predicted"] = predicted.numpy().astype(np.uint8).reshape(BOUNDARY, BOUNDARY)
        else:
            out = torch.sigmoid(out[:, 0]) if self.classification else out[:, 0]
        units = list(self.input_units)
        if hidden:
            grids = iter(thumbnails(torch.cat(hidden, dim=1).numpy()))
            units += [{"name": f"h{layer}.{unit}", "layer": layer, "grid": next(grids)}
                      for layer, h in enumerate(hidden, start=1) for unit in range(1, h.shape[1] + 1)]
        progress = self._done / len(self.X_train) if self._order is not None else 0.0
        network = self._network() if self._carries_weights() else {}
        return {"type": "frame", "epoch": self.epoch, "progress": round(progress, 3), "loss_train": self.loss_train,
                "loss_test": self.loss_test, "playing": self.playing, "diverged": self.diverged,
                "boundary": to_uint8(out.numpy(), *self.y_range).reshape(BOUNDARY, BOUNDARY), **classes,
                "confusion": None if self.confusion is None else self.confusion.tolist(), **self.accuracy(),
                "units": units, **network}

    def _carries_weights(self) -> bool:
        """Whether this frame carries the weights: paused, always; playing, every frame of a small
        network and every n-th of a large one. Only what is shown depends on it, never the training."""
        every = math.ceil(sum(m.weight.numel() for m in self.linears) / WEIGHTS_PER_FRAME)
        carries = not self.playing or self._since_weights + 1 >= every
        self._since_weights = 0 if carries else self._since_weights + 1
        return carries

    def _network(self) -> dict:
        """Weights per layer as rows (`to`) of columns (`from`), PyTorch's (out, in), and biases per layer."""
        return {"weights": [significant(m.weight.detach().numpy()).tolist() for m in self.linears],
                "biases": [significant(m.bias.detach().numpy()).tolist() for m in self.linears]}

    def points(self) -> dict:
        """The data message: train and test points as [x1, x2, y] rows, and the task."""
        d = self.data
        rows = lambda X, y: np.column_stack([X, y]).round(4).tolist()  # noqa: E731
        return {"type": "data", "dataset": self.settings["dataset"], "task": d.task, "domain": datasets.DOMAIN, "y_range": list(self.y_range),
                "classes": self.classes, "labels": self.labels,
                "train": rows(d.X_train, d.y_train), "test": rows(d.X_test, d.y_test)}
