"""Part 6, MNIST-1D: the paper's generator, offline, cached by every parameter, the caller's RNG untouched."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ladder import data
from ladder.data import signals

SMALL = {"n": 200}  # 20 signals of each class: a tenth of a second to make

#: One value for every parameter, other than its default.
CHANGED = {"n": 300, "test_size": 0.3, "seed": 1, "shuffle": True, "length": 30, "template_len": 10,
           "padding": [30, 50], "scale_coeff": 0.2, "max_translation": 20, "corr_noise_scale": 0.1,
           "iid_noise_scale": 0.05, "shear_scale": 0.5}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh, empty cache for the made signals."""
    folder = tmp_path / "cache"
    monkeypatch.setattr(signals, "cache_dir", lambda: folder)
    return folder / "mnist1d"


def arrays(ds) -> list[np.ndarray]:
    return [ds.X_train, ds.X_test, ds.y_train, ds.y_test]


# -- the dataset ------------------------------------------------------------------------------------
def test_the_defaults_are_the_papers_4000_and_1000_signals_of_40_points(cache):
    ds = data.load("mnist1d")
    assert ds.name == "mnist1d" and ds.task == "classification" and data.DATASETS["mnist1d"].task == ds.task
    assert ds.X_train.shape == (4000, 40) and ds.X_test.shape == (1000, 40)
    assert ds.n_classes == 10 and ds.y_train.dtype == np.int64
    assert set(np.bincount(ds.y_train)) <= set(range(380, 420))  # the generator's shuffle of 500 per class
    # exactly what the package's own `make_dataset(get_dataset_args())` makes
    from mnist1d.data import get_dataset_args, make_dataset

    made = make_dataset(get_dataset_args())
    np.testing.assert_array_equal(ds.X_train, made["x"])
    np.testing.assert_array_equal(ds.y_test, made["y_test"])
    assert not data.is_image_dataset("mnist1d")


def test_the_same_parameters_give_identical_arrays_made_twice(cache):
    first = signals.generate({**defaults(), **SMALL})
    second = signals.generate({**defaults(), **SMALL})
    for a, b in zip(first.values(), second.values()):
        np.testing.assert_array_equal(a, b)
    other = signals.generate({**defaults(), **SMALL, "seed": 43})
    assert not np.array_equal(first["X_train"], other["X_train"])


def defaults(**changes) -> dict:
    """Every parameter of `mnist1d` at its default (padding as a list, as the dataset records it)."""
    import inspect

    found = {p.name: p.default for p in inspect.signature(signals.mnist1d).parameters.values()}
    return {**found, "padding": list(found["padding"]), **changes}


def test_n_and_test_size_set_the_split(cache):
    ds = data.load("mnist1d", n=300, test_size=0.3)
    assert (len(ds.X_train), len(ds.X_test)) == (210, 90)
    assert ds.describe()["n_train"] == 210 and ds.describe()["shuffle"] is False


def test_the_callers_numpy_and_python_random_state_is_unchanged(cache):
    np.random.seed(123)
    random.seed(456)
    numpy_before, python_before = np.random.get_state(), random.getstate()
    data.load("mnist1d", **SMALL)
    numpy_after = np.random.get_state()
    assert numpy_after[0] == numpy_before[0] and numpy_after[2:] == numpy_before[2:]
    np.testing.assert_array_equal(numpy_after[1], numpy_before[1])
    assert random.getstate() == python_before
    assert np.random.random() == np.random.RandomState(123).random_sample()  # the stream goes on


def test_shuffle_moves_every_signals_positions_by_one_permutation(cache):
    plain = data.load("mnist1d", **SMALL)
    shuffled = data.load("mnist1d", **SMALL, shuffle=True)
    # the column of `plain` each shuffled column came from, found by its values
    origin = [next(j for j in range(40) if np.array_equal(shuffled.X_train[:, i], plain.X_train[:, j]))
              for i in range(40)]
    assert sorted(origin) == list(range(40)) and origin != list(range(40))
    np.testing.assert_array_equal(shuffled.X_train, plain.X_train[:, origin])
    np.testing.assert_array_equal(shuffled.X_test, plain.X_test[:, origin])  # the same for the test split
    np.testing.assert_array_equal(shuffled.y_train, plain.y_train)


# -- the cache --------------------------------------------------------------------------------------
def test_a_second_load_reads_the_cache_and_makes_nothing(cache, monkeypatch):
    first = data.load("mnist1d", **SMALL)
    assert len(list(cache.iterdir())) == 1
    monkeypatch.setattr(signals, "generate", lambda params: pytest.fail("made again"))
    second = data.load("mnist1d", **SMALL)
    for a, b in zip(arrays(first), arrays(second)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("key", sorted(CHANGED))
def test_the_cache_is_keyed_by_every_parameter(cache, key):
    first = data.load("mnist1d", **SMALL)
    other = data.load("mnist1d", **{**SMALL, key: CHANGED[key]})
    assert len(list(cache.iterdir())) == 2, "a changed parameter must make a file of its own"
    assert other.params[key] == CHANGED[key]
    assert not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(arrays(first), arrays(other)))


def test_the_cache_is_keyed_by_the_package_version(cache, monkeypatch):
    before = signals.cache_file(defaults())
    monkeypatch.setattr(signals.metadata, "version", lambda name: "9.9")
    assert signals.cache_file(defaults()) != before


def test_a_damaged_cache_file_is_made_again(cache):
    first = data.load("mnist1d", **SMALL)
    (path,) = cache.iterdir()
    path.write_bytes(path.read_bytes()[:100])  # cut short, as a full disk might have left it elsewhere
    again = data.load("mnist1d", **SMALL)
    np.testing.assert_array_equal(again.X_train, first.X_train)
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no temporary file left


@pytest.mark.parametrize("params, message", [
    ({"n": 5}, "n must be at least 20"),
    ({"test_size": 1.5}, "test_size must be between 0 and 1"),
    ({"padding": [60, 36]}, "padding must be [low, high]"),
    ({"max_translation": 0}, "max_translation must be at least 1"),
    ({"iid_noise_scale": -1.0}, "iid_noise_scale must be >= 0"),
])
def test_impossible_parameters_are_refused_by_name(cache, params, message):
    with pytest.raises(ValueError) as error:
        data.load("mnist1d", **params)
    assert message in str(error.value)


def test_a_bad_parameter_in_a_file_is_one_line_and_exit_code_2(write_toml, tmp_path):
    spec = write_toml("""
        name = "bad"
        dataset = { name = "mnist1d", n = 5 }
        [[rungs]]
        name = "logreg"
        model = { kind = "logistic" }
    """)
    done = subprocess.run([sys.executable, "-m", "ladder.cli", "run", str(spec), "--no-figures",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "dataset.n: must be at least 20" in done.stderr and len(done.stderr.strip().splitlines()) == 1


# -- never the network ------------------------------------------------------------------------------
#: Python's audit hooks see every socket a process opens: this one refuses any connection or
#: name lookup, and says so on stderr, so a test can run ladder as users do with no network.
#: A Unix socket is no network: it is how this process talks to its own worker processes (which
#: only train; the data is made here).
NO_NETWORK = textwrap.dedent("""
    import socket
    import sys

    def refuse(event, args):
        if event == "socket.connect" and args[0].family == socket.AF_UNIX:
            return
        if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname"):
            print(f"NETWORK: {event} {args}", file=sys.stderr)
            raise OSError("the network is blocked in this test")

    sys.addaudithook(refuse)
""")


def without_network(code: str, tmp_path) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python with the network blocked and an empty ladder cache."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "empty-cache")}
    return subprocess.run([sys.executable, "-c", NO_NETWORK + textwrap.dedent(code)],
                          capture_output=True, text=True, env=env)


def test_the_network_block_catches_a_download(tmp_path):
    done = without_network("""
        import urllib.request
        urllib.request.urlopen("https://github.com/greydanus/mnist1d/raw/master/mnist1d_data.pkl")
    """, tmp_path)
    assert done.returncode != 0 and "NETWORK:" in done.stderr


def test_mnist1d_is_made_with_the_network_blocked(tmp_path):
    done = without_network("""
        from ladder.data import load
        ds = load("mnist1d", n=200)
        print(ds.X_train.shape, ds.X_test.shape)
    """, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "NETWORK:" not in done.stderr
    assert done.stdout.split() == ["(160,", "40)", "(40,", "40)"]
    assert list((tmp_path / "empty-cache" / "ladder" / "mnist1d").glob("mnist1d-*.npz"))


def test_ladder_list_shows_mnist1d_and_its_parameters(invoke):
    result = invoke("list")
    assert result.exit_code == 0
    datasets = result.stdout.split("\ndatasets\n")[1].split("\nfeature maps\n")[0]
    line = next(line for line in datasets.splitlines() if line.startswith("mnist1d "))
    assert "[classification] MNIST-1D" in line
    assert "shuffle=False" in result.stdout and "max_translation=48" in result.stdout


# -- the 1-D CNN ------------------------------------------------------------------------------------
def test_the_1d_cnns_parameter_count_is_its_arithmetic():
    from ladder.models import MODULES, SignalCNN, count_parameters

    cnn = SignalCNN((40,), 10)
    assert MODULES["cnn1d"] is SignalCNN
    conv1, conv2, conv3, linear = 25 * 1 * 5 + 25, 25 * 25 * 3 + 25, 25 * 25 * 3 + 25, 25 * 5 * 10 + 10
    assert (conv1, conv2, conv3, linear) == (150, 1_900, 1_900, 1_260)
    assert count_parameters(cnn) == conv1 + conv2 + conv3 + linear == 5_210
    assert count_parameters(SignalCNN((40,), 10, channels=8)) == 8 * 5 + 8 + 2 * (8 * 8 * 3 + 8) + 8 * 5 * 10 + 10


def test_the_1d_cnn_halves_the_length_three_times():
    import torch

    from ladder.anatomy import layers
    from ladder.models import SignalCNN

    cnn = SignalCNN((40,), 10)
    assert cnn(torch.zeros(7, 40)).shape == cnn(torch.zeros(7, 1, 40)).shape == (7, 10)
    rows = {row["name"]: row for row in layers(cnn, (40,))}
    assert [rows[name]["shape"] for name in ("conv1", "conv2", "conv3", "flatten", "linear")] == \
        ["25×19", "25×10", "25×5", "125", "10"]
    assert rows["conv1"]["layer"] == "conv 5, 1→25, stride 2"
    assert rows["conv1"]["arithmetic"] == "(5·1 + 1)·25 = 150"
    assert rows["total"]["arithmetic"] == "150 + 1,900 + 1,900 + 1,260 = 5,210"
    with pytest.raises(ValueError, match="too short"):
        SignalCNN((2,), 10)


def test_ladder_inspect_shows_the_1d_cnn_layer_by_layer(invoke):
    result = invoke("inspect", "cnn1d")
    assert result.exit_code == 0, result.output
    assert "cnn1d on inputs of 40, 10 outputs" in result.output
    assert "(3·25 + 1)·25 = 1,900" in result.output and "5,210" in result.output


def test_ladder_inspect_shows_part_6s_cnn_rung(invoke, cache):
    result = invoke("inspect", "mnist1d:cnn+shuffle")
    assert result.exit_code == 0, result.output
    assert "mnist1d:cnn+shuffle (cnn1d, torch) on mnist1d" in result.output
    assert "150 + 1,900 + 1,900 + 1,260 = 5,210" in result.output


def test_a_cnn1d_rung_is_an_estimator_that_learns_the_signals(cache):
    from ladder.rungs import build_estimator

    ds = data.load("mnist1d", n=1000)
    model = build_estimator("classification", None, {"kind": "cnn1d"},
                            {"epochs": 20, "lr": 0.01, "batch_size": 100}, seed=0, device="cpu")
    model.fit(ds.X_train, ds.y_train)
    assert model.n_params_ == 5_210
    assert model.score(ds.X_test, ds.y_test) > 0.5  # chance is 0.1


# -- the Fourier-magnitude φ ------------------------------------------------------------------------
def test_fourier_magnitudes_do_not_change_when_a_signal_is_rolled(cache):
    from ladder.features import FEATURES, fourier_magnitudes

    X = data.load("mnist1d", **SMALL).X_train
    phi = FEATURES["fourier"](scale=False).fit(X)
    assert phi.transform(X).shape == (len(X), 21)  # 40 points: frequencies 0 to 20
    assert list(phi.get_feature_names_out()[[0, -1]]) == ["frequency_0", "frequency_20"]
    for shift in (1, 7, 20):
        np.testing.assert_allclose(fourier_magnitudes(np.roll(X, shift, axis=1)), fourier_magnitudes(X),
                                   rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fourier_magnitudes(X)[:, 0], np.abs(X.sum(axis=1)), rtol=1e-5)
    assert not np.allclose(fourier_magnitudes(X[:, ::-1].cumsum(axis=1)), fourier_magnitudes(X.cumsum(axis=1)))


def test_a_linear_model_on_fourier_magnitudes_predicts_the_same_for_a_rolled_signal(cache):
    from ladder.rungs import build_estimator

    ds = data.load("mnist1d", n=1000)
    model = build_estimator("classification", {"kind": "fourier"}, {"kind": "logistic"}, None, 0, "cpu")
    model.fit(ds.X_train, ds.y_train)
    rolled = np.roll(ds.X_test, 13, axis=1)
    assert (model.predict(rolled) == model.predict(ds.X_test)).mean() > 0.99
    raw = build_estimator("classification", None, {"kind": "logistic"}, None, 0, "cpu").fit(ds.X_train, ds.y_train)
    assert (raw.predict(rolled) == raw.predict(ds.X_test)).mean() < 0.7  # the raw positions do move it


# -- shuffled positions -----------------------------------------------------------------------------
def test_shuffle_reorders_the_columns_of_train_and_test_alike():
    from ladder.features import FEATURES

    X = np.arange(40.0)[None, :] + 100 * np.arange(3.0)[:, None]
    phi = FEATURES["shuffle"](seed=0).fit(X)
    moved = phi.transform(X)
    assert sorted(moved[0]) == list(X[0]) and list(moved[0]) != list(X[0])  # nothing added or lost
    np.testing.assert_array_equal(moved, X[:, phi.permutation_])
    np.testing.assert_array_equal(phi.transform(X[::-1]), moved[::-1])  # every row the same way
    np.testing.assert_array_equal(FEATURES["shuffle"](seed=0).fit(X).permutation_, phi.permutation_)
    assert not np.array_equal(FEATURES["shuffle"](seed=1).fit(X).permutation_, phi.permutation_)


def test_a_rung_on_shuffled_positions_is_still_learned_in_the_full_picture():
    from ladder.plots import rung_family

    assert rung_family({"name": "cnn+shuffle", "features": {"kind": "shuffle"},
                        "model": {"kind": "cnn1d"}}) == "learned"
    assert rung_family({"name": "logreg+fourier", "features": {"kind": "fourier"},
                        "model": {"kind": "logistic"}}) == "engineered"
    assert rung_family({"name": "cnn", "model": {"kind": "cnn1d"}}) == "learned"


# -- part 6, as users run it -------------------------------------------------------------------------
RUN_LADDER = "import runpy, sys\nsys.argv[0] = 'ladder'\nrunpy.run_module('ladder.cli', run_name='__main__')\n"


@pytest.fixture(scope="module")
def part6(tmp_path_factory):
    """`ladder run mnist1d --seeds 1 --out …` in a fresh process with the network blocked and an
    empty cache: (the process, its results.json, the output folder)."""
    import json

    folder = tmp_path_factory.mktemp("part6")
    out = folder / "out"
    done = subprocess.run([sys.executable, "-c", NO_NETWORK + RUN_LADDER, "run", "mnist1d", "--seeds", "1",
                           "--out", str(out)], capture_output=True, text=True,
                          env={**os.environ, "XDG_CACHE_HOME": str(folder / "empty-cache")})
    results = json.loads((out / "results.json").read_text(encoding="utf-8")) if done.returncode == 0 else None
    return done, results, out


@pytest.mark.slow
def test_part6_runs_offline_and_every_claim_holds(part6):
    done, results, _ = part6
    assert done.returncode == 0, done.stderr
    assert "NETWORK:" not in done.stderr and "Traceback" not in done.stderr
    (experiment,) = results["experiments"]
    failed = [c["text"] for c in experiment["claims"] if not c["holds"]]
    assert experiment["claims"] and not failed, done.stdout
    assert experiment["dataset"]["n_train"] == 4000 and experiment["dataset"]["n_test"] == 1000
    params = {r["name"]: r["n_params"] for r in experiment["rungs"]}
    assert params["cnn"] == params["cnn+shuffle"] == 5_210 and params["mlp"] == 15_210


@pytest.mark.slow
def test_part6_draws_its_figures_into_the_report(part6):
    done, results, out = part6
    assert done.returncode == 0, done.stderr
    (experiment,) = results["experiments"]
    files = {Path(f["file"]).name for f in experiment["figures"]}
    assert {"mnist1d-signals.png", "mnist1d-shuffled.png", "mnist1d-cnn-kernels.png"} <= files
    assert all((out / f["file"]).stat().st_size > 10_000 for f in experiment["figures"])
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Part 6, the gap grows" in report
    assert 'alt="Every rung on the signals as made and on shuffled positions"' in report


# -- the figures --------------------------------------------------------------------------------------
def record(**accuracies) -> dict:
    return {"name": "mnist1d", "rungs": [{"name": name, "metrics": {"test_accuracy": {"mean": a, "std": 0.01}}}
                                         for name, a in accuracies.items()]}


def test_each_rung_is_paired_with_its_shuffled_twin():
    from ladder.plots.signals import shuffle_pairs

    pairs = shuffle_pairs(record(logreg=0.33, **{"logreg+fourier": 0.4, "cnn": 0.9, "cnn+shuffle": 0.6}))
    assert [(name, twin and twin["name"]) for name, _, twin in pairs] == \
        [("logreg", None), ("logreg+fourier", None), ("cnn", "cnn+shuffle")]


def test_the_spread_figure_reads_the_same_three_rungs_of_each_part():
    from matplotlib.figure import Figure

    from ladder import plots
    from ladder.plots.signals import spread

    mnist = record(logreg=0.925, **{"logreg+hog": 0.97}, mlp=0.977, cnn=0.99)
    mnist["name"] = "mnist"
    signals_record = record(logreg=0.33, mlp=0.64, cnn=0.90)
    assert spread(mnist) == {"logreg": 0.925, "mlp": 0.977, "cnn": 0.99}
    fig = plots.spreads([mnist, signals_record])
    assert isinstance(fig, Figure)
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert labels == ["mnist: +0.065 from logreg to cnn", "mnist1d: +0.570 from logreg to cnn"]


def test_a_run_with_parts_4_and_6_draws_the_spreads_side_by_side():
    from types import SimpleNamespace

    from ladder.figures import summary_figures

    runs = [SimpleNamespace(record=record(logreg=0.925, mlp=0.977, cnn=0.99) | {"name": "mnist"}),
            SimpleNamespace(record=record(logreg=0.33, mlp=0.64, cnn=0.90))]
    assert [slug for slug, _, _ in summary_figures(runs)] == ["gap-grows"]  # the full picture is an HTML table of the report
    assert [slug for slug, _, _ in summary_figures(runs[1:])] == []
