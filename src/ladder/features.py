"""Hand-made feature maps φ, as scikit-learn transformers: y = θ·φ(x) with φ chosen by a person."""

from __future__ import annotations

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler


def polynomial(degree: int = 2, scale: bool = True):
    """All monomials of the inputs up to `degree` (2 inputs, degree 2: x1, x2, x1², x1·x2, x2²).

    With `scale`, each monomial is standardised afterwards: x⁶ and x spread over wildly different
    ranges, and a linear model's optimiser converges far better when they do not.
    """
    if degree < 1:
        raise ValueError(f"degree must be >= 1, got {degree}")
    poly = PolynomialFeatures(degree, include_bias=False)
    return make_pipeline(poly, StandardScaler()) if scale else poly


def standardize():
    """Each feature shifted to mean 0 and scaled to standard deviation 1."""
    return StandardScaler()


#: Feature maps a spec can name, with the function that builds each.
FEATURES = {"polynomial": polynomial, "standardize": standardize}
