"""The glass box: linear regression trained by hand, every step of gradient descent written out.

No nn.Module and no optimizer: two tensors `w` and `b` that record how the loss was computed,
`loss.backward()` to get their gradients, an update under `torch.no_grad()`, and the gradients
zeroed by hand. It draws its starting `w` and `b` exactly as nn.Linear does, so with the same seed
and learning rate it follows nn.Linear + SGD step for step.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .models import seeded


class GlassBoxLinearRegression(RegressorMixin, BaseEstimator):
    """y = x·wᵀ + b fitted by full-batch gradient descent on the mean squared error, by hand."""

    def __init__(self, epochs=1000, lr=0.01, zero_grad=True, random_state=None):
        self.epochs = epochs
        self.lr = lr
        self.zero_grad = zero_grad
        self.random_state = random_state

    def fit(self, X, y, callback=None):
        X, y = validate_data(self, X, y, y_numeric=True)
        X = torch.tensor(X, dtype=torch.float32)
        y = torch.tensor(np.asarray(y), dtype=torch.float32).reshape(-1, 1)
        seed = self.random_state if self.random_state is not None else int(np.random.randint(2**31 - 1))
        bound = 1 / math.sqrt(X.shape[1])  # nn.Linear's default: U(-1/√fan_in, 1/√fan_in)
        with seeded(seed):
            w = torch.empty(1, X.shape[1]).uniform_(-bound, bound).requires_grad_()
            b = torch.empty(1).uniform_(-bound, bound).requires_grad_()
        self.history_ = {"loss": []}
        for epoch in range(self.epochs):
            loss = ((X @ w.T + b - y) ** 2).mean()  # 1. forward  2. loss
            loss.backward()                          # 3. backward: fills w.grad and b.grad
            with torch.no_grad():                    # 4. step, not recorded for autograd
                w -= self.lr * w.grad
                b -= self.lr * b.grad
            if self.zero_grad:                       # 5. zero: else the next backward adds to these
                w.grad.zero_()
                b.grad.zero_()
            self.history_["loss"].append(loss.item())
            if callback is not None:
                callback(epoch, self.history_, None)
        self.weight_ = w.detach().numpy().astype(np.float64)
        self.bias_ = b.detach().numpy().astype(np.float64)
        self.n_params_ = self.weight_.size + self.bias_.size
        return self

    def predict(self, X):
        check_is_fitted(self, "weight_")
        X = validate_data(self, X, reset=False)
        return X @ self.weight_[0] + self.bias_[0]
