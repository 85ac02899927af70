"""Small synthetic datasets: the 2-D toys (circles, spirals, …) and the 1-D regressions.

scikit-learn and numpy are imported inside each function, so listing the datasets (their
names, parameters and defaults) costs no import of either.
"""

from __future__ import annotations

from .dataset import Dataset, split, task


def _check(n, noise, minimum=4):
    if n < minimum:
        raise ValueError(f"n must be at least {minimum}, got {n}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")


@task("classification")
def circles(n: int = 1000, noise: float = 0.1, factor: float = 0.5, seed: int = 0,
            test_size: float = 0.25) -> Dataset:
    """Two concentric rings: no straight line separates them, x1² + x2² does."""
    _check(n, noise)
    if not 0 < factor < 1:
        raise ValueError(f"factor must be between 0 and 1, got {factor}")
    from sklearn import datasets as skd

    X, y = skd.make_circles(n, noise=noise, factor=factor, random_state=seed)
    return split("circles", "classification", X, y, test_size=test_size, seed=seed,
                 params={"noise": noise, "factor": factor})


@task("classification")
def moons(n: int = 1000, noise: float = 0.2, seed: int = 0, test_size: float = 0.25) -> Dataset:
    """Two interleaved half-moons: gently curved boundary."""
    _check(n, noise)
    from sklearn import datasets as skd

    X, y = skd.make_moons(n, noise=noise, random_state=seed)
    return split("moons", "classification", X, y, test_size=test_size, seed=seed,
                 params={"noise": noise})


@task("classification")
def spirals(n: int = 1000, noise: float = 0.2, turns: float = 2.5, seed: int = 0,
            test_size: float = 0.25) -> Dataset:
    """Two interleaved spirals: the boundary winds around the origin `turns` times."""
    _check(n, noise)
    if turns <= 0:
        raise ValueError(f"turns must be > 0, got {turns}")
    import numpy as np

    rng = np.random.default_rng(seed)
    half = n // 2
    # sqrt spreads points evenly along the arm instead of crowding the centre.
    angle = np.sqrt(rng.uniform(size=n)) * turns * 2 * np.pi
    arm = np.column_stack([angle * np.cos(angle), angle * np.sin(angle)]) / np.pi
    sign = np.where(np.arange(n) < half, 1.0, -1.0)[:, None]  # the second spiral is the first turned 180°
    X = sign * arm + noise * rng.normal(size=(n, 2))
    y = (np.arange(n) >= half).astype(int)
    return split("spirals", "classification", X, y, test_size=test_size, seed=seed,
                 params={"noise": noise, "turns": turns})


@task("classification")
def xor(n: int = 1000, noise: float = 0.2, seed: int = 0, test_size: float = 0.25) -> Dataset:
    """Four clusters at the corners of a square; opposite corners share a class."""
    _check(n, noise)
    import numpy as np

    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 4, size=n)
    centres = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=float)
    X = centres[corners] + noise * rng.normal(size=(n, 2))
    y = (corners >= 2).astype(int)
    return split("xor", "classification", X, y, test_size=test_size, seed=seed,
                 params={"noise": noise})


@task("classification")
def blobs(n: int = 1000, centers: int | list[list[float]] = 3, noise: float = 1.0, seed: int = 0,
          test_size: float = 0.25) -> Dataset:
    """k Gaussian blobs in the plane (`centers`: a count, or the centre points; `noise`: each blob's std)."""
    _check(n, noise)
    if (centers if isinstance(centers, int) else len(centers)) < 2:
        raise ValueError(f"centers must be at least 2 (a count or a list of points), got {centers}")
    from sklearn import datasets as skd

    X, y = skd.make_blobs(n, centers=centers, cluster_std=noise, random_state=seed)
    return split("blobs", "classification", X, y, test_size=test_size, seed=seed,
                 params={"centers": centers, "noise": noise})


@task("classification")
def linear(n: int = 1000, noise: float = 0.0, class_sep: float = 1.5, clusters_per_class: int = 1,
           seed: int = 0, test_size: float = 0.25) -> Dataset:
    """Two classes that a straight line (nearly) separates: make_classification, 2 informative features.

    `noise` is the fraction of labels flipped at random.
    """
    _check(n, noise)
    from sklearn import datasets as skd

    X, y = skd.make_classification(n, n_features=2, n_informative=2, n_redundant=0,
                                   n_clusters_per_class=clusters_per_class, flip_y=noise,
                                   class_sep=class_sep, random_state=seed)
    return split("linear", "classification", X, y, test_size=test_size, seed=seed,
                 params={"noise": noise, "class_sep": class_sep})


@task("regression")
def sine(n: int = 300, noise: float = 0.15, frequency: float = 1.5, seed: int = 42,
         test_size: float = 0.25) -> Dataset:
    """y = sin(frequency·x) + N(0, noise²), x ~ U(-3, 3): a curve no line can follow."""
    _check(n, noise)
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, size=n)
    y = np.sin(frequency * x) + rng.normal(0, noise, size=n)
    return split("sine", "regression", x[:, None], y, test_size=test_size, seed=seed,
                 params={"noise": noise, "frequency": frequency})


@task("regression")
def line(n: int = 100, noise: float = 0.0, slope: float = 2.0, low: float = -3.0, high: float = 3.0,
         grid: bool = False, seed: int = 0, test_size: float = 0.25) -> Dataset:
    """y = slope·x (+ noise), x ~ U(low, high) (or evenly spaced with `grid`): a line solves it exactly."""
    _check(n, noise, minimum=2)
    import numpy as np

    rng = np.random.default_rng(seed)
    x = np.linspace(low, high, n) if grid else rng.uniform(low, high, size=n)
    y = slope * x + rng.normal(0, noise, size=n) if noise else slope * x
    return split("line", "regression", x[:, None], y, test_size=test_size, seed=seed,
                 params={"noise": noise, "slope": slope})
