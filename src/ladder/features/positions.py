"""Shuffled positions: the same numbers in one fixed random order, so where a value sits means nothing."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class ShuffledPositions(TransformerMixin, BaseEstimator):
    """The columns of X in one fixed random order, drawn from `seed` when fitted (`permutation_`).

    Every row is reordered the same way, training and test alike: nothing is added or lost, so
    a model that ignores where its inputs sit (logistic regression, an MLP) learns the same
    thing up to the order of its weights, while a model built on neighbouring positions (a
    convolution) loses what neighbours meant.
    """

    def __init__(self, seed: int = 0):
        self.seed = seed

    def fit(self, X, y=None):
        X = validate_data(self, X)
        self.permutation_ = np.random.default_rng(self.seed).permutation(X.shape[1])
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return X[:, self.permutation_]

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        return np.asarray([f"x{i}" for i in self.permutation_], dtype=object)
