"""TorchClassifier and TorchRegressor: scikit-learn estimators around ladder's training loop.

They follow scikit-learn's conventions (parameters stored unchanged in __init__, learned state
in attributes ending in "_", fit returns self), so a PyTorch rung works in a Pipeline, in
cross_val_score and in DecisionBoundaryDisplay exactly like its scikit-learn twin.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import budget
from .features.shapes import image_size
from .models import MODULES, count_parameters, seeded
from .devices import pick_device
from .train import Diverged, make_loss, mixed_precision, train

# Rows per forward pass when predicting: bounds memory. A CNN's first activations for 1,024 MNIST
# images (51 MB) are larger than what glibc keeps for reuse, so every chunk faulted in fresh pages
# (20,000 images: 1.9-2.6 s at 1,024 rows, 1.1-1.2 s at 256; 8,192 rows was slower still).
PREDICT_CHUNK = 256


class _TorchEstimator(BaseEstimator):
    """What the classifier and the regressor share: building the module, fitting, predicting.

    uint8 input is read as image pixels: each batch is scaled to [0, 1] and standardised with
    `pixel_mean` and `pixel_std` (MNIST's statistics by default) as it is sliced, so a dataset of
    images stays uint8 in memory. `image_shape` (height, width) tells a CNN how to unflatten rows;
    when None, a square image is assumed. `augment={"shift": 3, "rotate": 20}` moves every
    training image by a random shift of up to 3 pixels each way and a rotation of up to ±20° as
    its batch is sliced (image inputs only; predictions see the images as they are).
    `label_smoothing` ε (classifiers only) trains towards probability 1 - ε + ε/k on the true
    class of k instead of 1, as `torch.nn.CrossEntropyLoss(label_smoothing=ε)` does (0.91 for
    MNIST's ten digits at ε = 0.1).

    `n_threads` is how many CPU threads fitting and predicting may use (PyTorch's and the BLAS
    pools'), like scikit-learn's `n_jobs`. None lets ladder choose (see `ladder.budget`): one
    thread for models without convolutions, where more threads only wait on each other, and the
    usable cores for a CNN; `$LADDER_THREADS` overrides that choice. The caller's own thread
    settings are restored when fit or predict returns.
    """

    def __init__(self, module="mlp", hidden=(100,), activation="relu", epochs=200, optimizer="adam",
                 lr=0.01, batch_size=None, weight_decay=0.0, l1=0.0, schedule=None, zero_grad=True,
                 label_smoothing=0.0, autocast=False, channels_last=False, image_shape=None,
                 pixel_mean=0.1307, pixel_std=0.3081, augment=None, device="auto", n_threads=None,
                 random_state=None):
        self.module = module
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.l1 = l1
        self.schedule = schedule
        self.zero_grad = zero_grad
        self.label_smoothing = label_smoothing
        self.autocast = autocast
        self.channels_last = channels_last
        self.image_shape = image_shape
        self.pixel_mean = pixel_mean
        self.pixel_std = pixel_std
        self.augment = augment
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state

    # -- building -----------------------------------------------------------------------------
    def _build_module(self, n_features: int, n_outputs: int) -> torch.nn.Module:
        if callable(self.module):
            return self.module(n_features, n_outputs)
        if self.module not in MODULES:
            raise ValueError(f"unknown module {self.module!r}; choose one of: {', '.join(MODULES)}")
        if self.module == "cnn":
            return MODULES["cnn"](image_size(n_features, self.image_shape), n_outputs)
        kwargs = {}
        if self.module in ("mlp", "stacked_linear"):
            kwargs["hidden"] = tuple(self.hidden)
        if self.module == "mlp":
            kwargs["activation"] = self.activation
        return MODULES[self.module]((n_features,), n_outputs, **kwargs)

    def _as_input(self, X) -> torch.Tensor:
        """Rows as a tensor on the device: uint8 stays uint8 (see _transform), the rest float32."""
        t = torch.from_numpy(np.require(X, requirements="CW"))  # torch wants a writable array
        t = t if t.dtype == torch.uint8 else t.float()
        if self.module == "cnn":
            t = t.reshape(len(t), 1, *image_size(X.shape[1], self.image_shape))
        return t.to(self.device_)

    def _transform(self, xb: torch.Tensor) -> torch.Tensor:
        if xb.dtype == torch.uint8:
            xb = self._scale(xb.float())
        if self.channels_last and xb.dim() == 4:
            xb = xb.contiguous(memory_format=torch.channels_last)
        return xb

    def _scale(self, pixels: torch.Tensor) -> torch.Tensor:
        """Pixels (a float copy, changed in place) scaled to [0, 1], then standardised."""
        # In place: the same arithmetic as (pixels / 255 - mean) / std, bit for bit, without
        # allocating three temporaries for every batch.
        return pixels.div_(255.0).sub_(self.pixel_mean).div_(self.pixel_std)

    def _augmenting(self, X_t: torch.Tensor, seed: int):
        """The training batches' transform: random moves of the images, then `_transform`'s scaling."""
        if not self.augment:
            return self._transform
        if X_t.dtype != torch.uint8:
            raise ValueError("augment moves images: it needs uint8 image inputs")
        from .augment import RandomMoves

        moves = RandomMoves(**self.augment, seed=seed + 1)
        side = image_size(self.n_features_in_, self.image_shape)

        def transform(xb: torch.Tensor) -> torch.Tensor:
            images = xb.float().reshape(len(xb), *side) if xb.dim() == 2 else xb.float()  # rows → images
            return self._transform(self._scale(moves(images)).reshape(xb.shape))
        return transform

    # -- fitting ------------------------------------------------------------------------------
    def _fit(self, X, y_tensor, n_outputs, loss, eval_set=None, callback=None):
        self.device_ = pick_device(self.device)
        seed = self.random_state if self.random_state is not None else int(np.random.randint(2**31 - 1))
        with seeded(seed):
            self.module_ = self._build_module(self.n_features_in_, n_outputs).to(self.device_)
        if self.channels_last and self.module == "cnn":
            self.module_ = self.module_.to(memory_format=torch.channels_last)
        self.n_params_ = count_parameters(self.module_)
        self.loss_ = loss  # train.py's name of the loss it trains with
        self.threads_ = None  # chosen for this fit by _threads()
        evaluate = self._evaluator(*eval_set) if eval_set is not None else None
        X_t = self._as_input(X)
        self.input_shape_ = tuple(X_t.shape[1:])  # one sample as the module sees it
        with budget.threads(self._threads()):
            try:
                self.history_ = train(
                    self.module_, X_t, y_tensor.to(self.device_), loss=loss, optimizer=self.optimizer,
                    lr=self.lr, epochs=self.epochs, batch_size=self.batch_size,
                    weight_decay=self.weight_decay, l1=self.l1, schedule=self.schedule,
                    zero_grad=self.zero_grad,
                    label_smoothing=self.label_smoothing,
                    transform=self._augmenting(X_t, seed), autocast=self.autocast, seed=seed,
                    evaluate=evaluate, callback=callback)
            except Diverged as diverged:
                self.history_ = diverged.history  # what was learned before it went wrong
                raise
        return self

    def _threads(self) -> int:
        """Chosen once, when fitting starts (sampling the machine costs 0.1 s), then kept."""
        if getattr(self, "threads_", None) is None:
            self.threads_ = budget.threads_for(self.module_, self.n_threads)
        return self.threads_

    def _forward(self, X) -> torch.Tensor:
        """The module's raw outputs for X, computed in chunks, as a float32 CPU tensor."""
        check_is_fitted(self, "module_")
        X = validate_data(self, X, reset=False, dtype="numeric")
        with budget.threads(self._threads()):
            return self._logits(self._as_input(X)).cpu()

    def loss(self, X, y) -> float:
        """The fitted model's mean loss on (X, y), the loss it was trained with: a test loss
        that `ladder play` shows and `ladder run` records (test_loss), computed the same way."""
        return make_loss(self.loss_, self.label_smoothing)(self._forward(X), self._target(y)).item()

    def _logits(self, X: torch.Tensor) -> torch.Tensor:
        """Raw outputs for inputs already on the device, in chunks to bound memory."""
        if self.module_.training:  # (eval() walks every layer: a cost on each epoch's test curve)
            self.module_.eval()
        with torch.no_grad(), mixed_precision(self.device_, self.autocast):  # as in training
            if len(X) <= PREDICT_CHUNK:
                return self.module_(self._transform(X)).float()
            return torch.cat([self.module_(self._transform(X[i:i + PREDICT_CHUNK])).float()
                              for i in range(0, len(X), PREDICT_CHUNK)])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


class TorchClassifier(ClassifierMixin, _TorchEstimator):
    """A PyTorch classifier: one logit and BCE-with-logits for two classes, softmax cross-entropy for more.

    `module="linear"` is logistic regression; "mlp", "stacked_linear" and "cnn" climb the ladder.
    """

    def fit(self, X, y, eval_set=None, callback=None):
        """Fit on (X, y). `eval_set=(X_test, y_test)` records test loss and accuracy per epoch."""
        X, y = validate_data(self, X, y, dtype="numeric")
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"a classifier needs samples of at least 2 classes; got 1 class "
                             f"({self.classes_[0]!r})")
        binary = len(self.classes_) == 2
        y_t = torch.tensor(y_index, dtype=torch.float32)[:, None] if binary else torch.tensor(y_index)
        return self._fit(X, y_t, 1 if binary else len(self.classes_),
                         "bce" if binary else "cross_entropy", eval_set, callback)

    def _target(self, y) -> torch.Tensor:
        """Labels as the loss takes them: 0/1 in one column for two classes, else class numbers."""
        index = np.searchsorted(self.classes_, y)
        return torch.tensor(index, dtype=torch.float32)[:, None] if len(self.classes_) == 2 else torch.tensor(index)

    def _evaluator(self, X_eval, y_eval):
        # Converted once, not every epoch: the test curve should cost one forward pass per epoch.
        X_eval = self._as_input(validate_data(self, X_eval, reset=False, dtype="numeric"))
        target = torch.as_tensor(np.searchsorted(self.classes_, y_eval), device=self.device_)

        def evaluate(module):
            logits = self._logits(X_eval)
            predicted = (logits[:, 0] > 0).long() if len(self.classes_) == 2 else logits.argmax(1)
            return {"test_accuracy": (predicted == target).float().mean().item()}
        return evaluate

    def decision_function(self, X):
        logits = self._forward(X)
        return logits[:, 0].numpy() if len(self.classes_) == 2 else logits.numpy()

    def predict_proba(self, X):
        logits = self._forward(X)
        if len(self.classes_) == 2:
            p = torch.sigmoid(logits[:, 0]).numpy().astype(np.float64)
            return np.column_stack([1 - p, p])
        return torch.softmax(logits, dim=1).numpy().astype(np.float64)

    def predict(self, X):
        logits = self._forward(X)
        index = (logits[:, 0] > 0).long() if len(self.classes_) == 2 else logits.argmax(1)
        return self.classes_[index.numpy()]


class TorchRegressor(RegressorMixin, _TorchEstimator):
    """A PyTorch regressor trained with mean squared error. `module="linear"` is linear regression."""

    def fit(self, X, y, eval_set=None, callback=None):
        """Fit on (X, y). `eval_set=(X_test, y_test)` records test R² per epoch."""
        X, y = validate_data(self, X, y, dtype="numeric", y_numeric=True)
        y_t = torch.tensor(np.asarray(y, dtype=np.float32)).reshape(len(y), 1)
        return self._fit(X, y_t, 1, "mse", eval_set, callback)

    def _target(self, y) -> torch.Tensor:
        return torch.tensor(np.asarray(y, dtype=np.float32)).reshape(len(y), 1)

    def _evaluator(self, X_eval, y_eval):
        X_eval = self._as_input(validate_data(self, X_eval, reset=False, dtype="numeric"))
        target = torch.as_tensor(np.asarray(y_eval, dtype=np.float32), device=self.device_)
        total = ((target - target.mean()) ** 2).sum()

        def evaluate(module):
            residual = ((target - self._logits(X_eval)[:, 0]) ** 2).sum()
            return {"test_r2": (1 - residual / total).item()}
        return evaluate

    def predict(self, X):
        return self._forward(X)[:, 0].numpy().astype(np.float64)
