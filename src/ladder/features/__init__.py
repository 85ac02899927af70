"""Hand-made feature maps φ, as scikit-learn transformers: y = θ·φ(x) with φ chosen by a person.

Each map is built by a small function named after it (the names an experiment file uses); the
classes behind the image maps live in `summaries.py` and `gradient_histograms.py`, and are imported only when a
map is built, so listing the maps costs nothing. Every map that standardises uses scikit-learn's
StandardScaler fitted a block of rows at a time (`scaling.py`): the same scale, far less memory.
"""

from __future__ import annotations

import importlib


def polynomial(degree: int = 2, scale: bool = True):
    """All monomials of the inputs up to `degree` (2 inputs, degree 2: x1, x2, x1², x1·x2, x2²).

    With `scale`, each monomial is standardised afterwards: x⁶ and x spread over wildly different
    ranges, and a linear model's optimiser converges far better when they do not.
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    from .scaling import ChunkedStandardScaler

    if degree < 1:
        raise ValueError(f"degree must be >= 1, got {degree}")
    poly = PolynomialFeatures(degree, include_bias=False)
    return make_pipeline(poly, ChunkedStandardScaler()) if scale else poly


def standardize():
    """Each feature shifted to mean 0 and scaled to standard deviation 1 (as float32)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from .scaling import ChunkedStandardScaler
    from .shapes import float32_copy

    # Pixels arrive as uint8, which scikit-learn would widen to float64: float32 keeps a linear
    # model on 60,000 images twice as fast, with the same accuracy. The float32 array is always a
    # new one, so the scaler standardises it in place: one copy of the images instead of two
    # (188 MB less for MNIST's training set, at the full run's memory peak).
    return make_pipeline(FunctionTransformer(float32_copy), ChunkedStandardScaler(copy=False))


def pca(n_components: int = 2, scale: bool = True):
    """The first principal components: the directions along which the inputs vary most.

    With `scale`, the components are standardised afterwards, which a linear model's optimiser
    prefers; it changes nothing about what the components can separate.
    """
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from .scaling import ChunkedStandardScaler
    from .shapes import as_float32

    if n_components < 1:
        raise ValueError(f"n_components must be >= 1, got {n_components}")
    # In float32, as `standardize`: scikit-learn widens uint8 pixels to float64, and the
    # covariance of 60,000 MNIST images then took 1.8-2.2 s instead of 0.8-0.9 s (the same
    # explained variance to the digits printed).
    projection = [FunctionTransformer(as_float32),
                  PCA(n_components=n_components, svd_solver="covariance_eigh", random_state=0)]
    return make_pipeline(*projection, ChunkedStandardScaler()) if scale else make_pipeline(*projection)


def handcrafted(image_shape: list[int] | None = None, scale: bool = True):
    """Hand-crafted image features: ink, symmetry, quadrants, gradients, row and column profiles.

    15 summary features + H row means + W column means (28×28: 71), described in
    `handcrafted_features`. With `scale`, each is standardised afterwards: lbfgs then needs fewer
    steps and, stopped at the same tolerance, finds a better model.
    """
    from sklearn.pipeline import make_pipeline

    from .scaling import ChunkedStandardScaler
    from .summaries import HandcraftedFeatures

    phi = HandcraftedFeatures(image_shape=image_shape)
    return make_pipeline(phi, ChunkedStandardScaler()) if scale else phi


def hog(orientations: int = 9, pixels_per_cell: int | None = None, cells_per_block: int = 2,
        image_shape: list[int] | None = None, scale: bool = True):
    """HOG: histograms of gradient orientations per cell, normalised over blocks (scikit-image's).

    By default each cell is a quarter of the image wide: on 28×28 digits 7×7-pixel cells make a
    4×4 grid, blocks of 2×2 cells slide over it in 3×3 positions, 9 bins of 20° each:
    3·3·2·2·9 = 324 features (and 2×2-pixel cells give the same 324 on 8×8 digits). With `scale`,
    each feature is standardised afterwards, which gave logistic regression a slightly better
    model on MNIST.
    """
    from sklearn.pipeline import make_pipeline

    from .gradient_histograms import HogFeatures
    from .scaling import ChunkedStandardScaler

    phi = HogFeatures(orientations, pixels_per_cell, cells_per_block, image_shape)
    return make_pipeline(phi, ChunkedStandardScaler()) if scale else phi


def fourier(scale: bool = True):
    """Fourier magnitudes of a 1-D signal: |DFT|, the same wherever along the signal a pattern sits.

    40 points give 21 magnitudes (frequencies 0 to 20). They are blind to a circular shift of the
    signal and to everything its phases say, such as the order of a pattern's bumps. With `scale`,
    each is standardised afterwards, as the other maps are for the linear model that follows.
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from .fourier import fourier_magnitudes, frequency_names
    from .scaling import ChunkedStandardScaler

    phi = FunctionTransformer(fourier_magnitudes, validate=True, feature_names_out=frequency_names)
    return make_pipeline(phi, ChunkedStandardScaler()) if scale else phi


def shuffle(seed: int = 0):
    """The inputs' positions in one fixed random order (the same for every sample): not a φ that
    adds anything, the same numbers with their order made meaningless, to measure what a model
    owed to where each value sat."""
    from .positions import ShuffledPositions

    return ShuffledPositions(seed)


def playground(inputs: list[str] = ["x1", "x2"]):  # noqa: B006 - read only, shown by `ladder list`
    """The playground's toggles on 2-D points: any of x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2 (not scaled).

    The map `ladder play` exports, so `ladder run` feeds the network what the page fed it.
    """
    from sklearn.preprocessing import FunctionTransformer

    from .toggles import check_inputs, phi

    return FunctionTransformer(phi, kw_args={"inputs": check_inputs(list(inputs))})


#: Feature maps a spec can name, with the function that builds each.
FEATURES = {"polynomial": polynomial, "standardize": standardize, "pca": pca,
            "handcrafted": handcrafted, "hog": hog, "fourier": fourier,
            "shuffle": shuffle, "playground": playground}

# Where the rest of the public names live; imported on first use (`ladder.features.HogFeatures`).
_LAZY = {
    "image_size": "shapes", "as_images": "shapes", "as_float32": "shapes",
    "float32_copy": "shapes", "ChunkedStandardScaler": "scaling",
    "ImageFeatures": "images", "central_differences": "images", "brightest": "images",
    "edge_maps": "images", "CHUNK": "images",
    "HandcraftedFeatures": "summaries", "handcrafted_features": "summaries",
    "SUMMARY_FEATURES": "summaries", "INK": "summaries", "EDGE": "summaries",
    "HogFeatures": "gradient_histograms", "hog_descriptors": "gradient_histograms",
    "fourier_magnitudes": "fourier", "ShuffledPositions": "positions",
    "_orientation_bins": "gradient_histograms",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [*FEATURES, "FEATURES", *(n for n in _LAZY if not n.startswith("_"))]
