"""The toy datasets: shapes, tasks, and every parameter a TOML file can set (n, noise, seed, test_size)."""

import math

import numpy as np
import pytest

from ladder import data
from ladder.data import DATASETS, synthetic

TOYS = ["circles", "moons", "spirals", "xor", "blobs", "linear", "sine", "line"]
CLASSIFICATION = {"circles", "moons", "spirals", "xor", "blobs", "linear"}


def test_every_toy_dataset_can_be_named_in_a_spec():
    for name in TOYS:
        assert DATASETS[name] is getattr(synthetic, name)
        assert DATASETS[name].task == ("classification" if name in CLASSIFICATION else "regression")


@pytest.mark.parametrize("name", TOYS)
def test_n_and_test_size_set_the_split(name):
    d = data.load(name, n=200, test_size=0.3, seed=1)
    assert d.name == name
    assert len(d.X_train) == len(d.y_train) == 140
    assert len(d.X_test) == len(d.y_test) == 60
    assert d.task == DATASETS[name].task
    assert d.X_train.ndim == 2 and d.X_train.shape[1] == d.n_features
    assert d.n_features == (1 if name in ("sine", "line") else 2)
    assert np.isfinite(d.X_train).all() and np.isfinite(d.y_train).all()
    info = d.describe()
    assert info["name"] == name and info["n_train"] == 140 and info["n_test"] == 60


@pytest.mark.parametrize("name", TOYS)
def test_same_seed_same_data_other_seed_other_data(name):
    a, b = data.load(name, n=100, seed=3), data.load(name, n=100, seed=3)
    for key in ("X_train", "X_test", "y_train", "y_test"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    c = data.load(name, n=100, seed=4)
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("name", TOYS)
def test_noise_is_honoured(name):
    quiet, loud = data.load(name, n=300, seed=0, noise=0.0), data.load(name, n=300, seed=0, noise=0.5)
    assert quiet.describe()["noise"] == 0.0 and loud.describe()["noise"] == 0.5
    if name == "linear":  # noise there is the fraction of labels flipped
        changed = (quiet.y_train != loud.y_train).mean()
        assert 0.1 < changed < 0.5
    elif name in ("sine", "line"):  # noise is added to y
        residual = loud.y_train - quiet.y_train
        np.testing.assert_array_equal(loud.X_train, quiet.X_train)
        assert residual.std() == pytest.approx(0.5, rel=0.2)
    else:  # noise moves the points
        assert not np.allclose(quiet.X_train, loud.X_train)
        assert np.abs(loud.X_train - quiet.X_train).mean() > 0.1


@pytest.mark.parametrize("name", sorted(CLASSIFICATION))
def test_classification_splits_keep_the_class_balance(name):
    d = data.load(name, n=400, test_size=0.25, seed=0)
    assert d.y_train.dtype.kind in "iu"
    train_share = np.bincount(d.y_train) / len(d.y_train)
    test_share = np.bincount(d.y_test) / len(d.y_test)
    np.testing.assert_allclose(train_share, test_share, atol=0.02)
    assert d.n_classes == (3 if name == "blobs" else 2)


def test_sine_is_the_courses_wave():
    """300 points, x ~ U(-3, 3), y = sin(1.5x) + N(0, 0.15²), seed 42."""
    d = synthetic.sine()
    X = np.concatenate([d.X_train, d.X_test])[:, 0]
    y = np.concatenate([d.y_train, d.y_test])
    assert len(X) == 300 and d.params == {"noise": 0.15, "frequency": 1.5}
    assert -3 <= X.min() < -2.9 and 2.9 < X.max() <= 3
    residual = y - np.sin(1.5 * X)
    assert abs(residual.mean()) < 0.03 and residual.std() == pytest.approx(0.15, abs=0.02)
    np.testing.assert_array_equal(d.X_train, synthetic.sine(seed=42).X_train)


def test_noiseless_sine_and_line_lie_exactly_on_their_curves():
    d = synthetic.sine(n=50, noise=0.0, frequency=2.0)
    np.testing.assert_allclose(d.y_train, np.sin(2.0 * d.X_train[:, 0]))
    d = synthetic.line(n=50, slope=-3.0)
    np.testing.assert_allclose(d.y_train, -3.0 * d.X_train[:, 0])


def test_noiseless_circles_are_two_rings():
    d = synthetic.circles(n=200, noise=0.0, factor=0.4)
    radius = np.hypot(*d.X_train.T)
    np.testing.assert_allclose(radius[d.y_train == 0], 1.0)
    np.testing.assert_allclose(radius[d.y_train == 1], 0.4)


def test_spirals_wind_around_the_origin():
    d = synthetic.spirals(n=1000, noise=0.0, turns=2.5)
    X = np.concatenate([d.X_train, d.X_test])
    y = np.concatenate([d.y_train, d.y_test])
    assert np.bincount(y).tolist() == [500, 500]
    # noiseless: the second arm is the first turned by 180°, so its radius distribution is the same
    r0, r1 = np.sort(np.hypot(*X[y == 0].T)), np.sort(np.hypot(*X[y == 1].T))
    assert r0.max() <= 2.5 * 2 + 1e-9 and r1.max() <= 2.5 * 2 + 1e-9
    assert abs(r0.mean() - r1.mean()) < 0.3


def test_xor_labels_opposite_corners_alike():
    d = synthetic.xor(n=400, noise=0.0)
    X, y = d.X_train, d.y_train
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))


def test_blobs_has_as_many_classes_as_centers():
    d = synthetic.blobs(n=300, centers=5)
    assert d.n_classes == 5 and d.describe()["centers"] == 5


@pytest.mark.parametrize("name, params, says", [
    ("circles", {"n": 1}, "n must be at least"),
    ("spirals", {"n": 0}, "n must be at least"),
    ("moons", {"noise": -0.1}, "noise must be >= 0"),
    ("sine", {"noise": -1}, "noise must be >= 0"),
    ("line", {"test_size": -0.1}, "test_size"),
    ("line", {"test_size": 1}, "test_size"),
    ("xor", {"test_size": 1.5}, "test_size"),
    ("circles", {"factor": 1.5}, "factor"),
    ("spirals", {"turns": 0}, "turns"),
    ("blobs", {"centers": 1}, "centers"),
])
def test_bad_parameters_raise_value_error_naming_them(name, params, says):
    with pytest.raises(ValueError, match=says):
        data.load(name, **params)


def test_unknown_dataset_names_the_choices():
    with pytest.raises(KeyError, match="circles, moons, spirals"):
        data.load("circlez")


def test_test_size_rounds_like_scikit_learn():
    d = synthetic.moons(n=101, test_size=0.25)
    assert len(d.X_test) == math.ceil(101 * 0.25) and len(d.X_train) == 101 - math.ceil(101 * 0.25)


def test_test_size_zero_holds_nothing_out():
    d = synthetic.line(n=4, test_size=0)
    np.testing.assert_array_equal(d.X_test, d.X_train)
    assert len(d.X_train) == 4 and d.describe()["test_is_train"] is True
