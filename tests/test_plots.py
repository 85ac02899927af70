"""Figures draw what they promise: the right panels, the numbers in the titles, the learned
weights and activation maps at the right shapes. Models are tiny and trained for a few epochs."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import PolynomialFeatures, StandardScaler  # noqa: E402

from ladder import data, plots  # noqa: E402
from ladder.data.dataset import Dataset  # noqa: E402
from ladder.estimators import TorchClassifier, TorchRegressor  # noqa: E402


# -- fixtures: tiny data, tiny models -----------------------------------------------------------
@pytest.fixture(scope="module")
def circles():
    return data.load("circles", n=200, noise=0.1)


@pytest.fixture(scope="module")
def toy_models(circles):
    X, y = circles.X_train, circles.y_train
    return {
        "logreg": LogisticRegression().fit(X, y),
        "logreg+poly2": make_pipeline(PolynomialFeatures(2, include_bias=False), StandardScaler(),
                                      LogisticRegression()).fit(X, y),
        "mlp": TorchClassifier(module="mlp", hidden=(8, 8), epochs=30, lr=0.05, random_state=0).fit(X, y),
    }


@pytest.fixture(scope="module")
def sine():
    return data.load("sine", n=120)


def _digits_dataset(n_train=200, n_test=100):
    digits = load_digits()
    images = np.round(digits.images * 255 / 16).astype(np.uint8)
    n = n_train + n_test
    return Dataset("digits", "classification", images[:n_train], images[n_train:n],
                   digits.target[:n_train], digits.target[n_train:n])


@pytest.fixture(scope="module")
def digits():
    return _digits_dataset()


def _rows(X):
    return X.reshape(len(X), -1)


@pytest.fixture(scope="module")
def digit_models(digits):
    X, y = _rows(digits.X_train), digits.y_train
    evals = (_rows(digits.X_test), digits.y_test)
    kw = dict(epochs=2, batch_size=32, lr=0.01, random_state=0)
    return {
        "linear": TorchClassifier(module="linear", **kw).fit(X, y, eval_set=evals),
        "cnn": TorchClassifier(module="cnn", **kw).fit(X, y, eval_set=evals),
        "logreg": LogisticRegression(max_iter=300).fit(X / 255.0, y),
    }


@pytest.fixture(scope="module")
def mnist_like():
    """Random 28×28 uint8 'digits': only the shapes matter here."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    y = np.arange(50) % 10
    return Dataset("mnist", "classification", X[:40], X[40:], y[:40], y[40:])


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def _titles(fig):
    return [ax.get_title() for ax in fig.axes]


def _test_accuracy(est, ds):
    return float(np.mean(est.predict(_rows(ds.X_test)) == ds.y_test))


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


# -- toys ---------------------------------------------------------------------------------------
def test_dataset_draws_every_train_and_test_point(circles):
    fig = plots.dataset(circles)
    ax = fig.axes[0]
    drawn = sum(len(c.get_offsets()) for c in ax.collections)
    assert drawn == len(circles.X_train) + len(circles.X_test)
    assert f"{len(circles.X_train)} train" in ax.get_title()


def test_regression_dataset_dashes_the_true_sine(sine):
    ax = plots.dataset(sine).axes[0]
    (dashed,) = [line for line in ax.lines if line.get_linestyle() == "--"]
    x, y = dashed.get_data()
    np.testing.assert_allclose(y, np.sin(sine.params["frequency"] * x))


def test_regression_dataset_of_unknown_function_has_no_dashed_line(sine):
    unknown = Dataset("measured", "regression", sine.X_train, sine.X_test, sine.y_train, sine.y_test)
    assert len(plots.dataset(unknown).axes[0].lines) == 0


def test_decision_boundaries_one_panel_per_rung_with_accuracy_and_features(circles, toy_models):
    fig = plots.decision_boundaries(toy_models, circles)
    titles = _titles(fig)
    assert len(titles) == 3
    for title, (name, est) in zip(titles, toy_models.items()):
        assert name in title
        assert f"test acc {_test_accuracy(est, circles):.3f}" in title
    assert "· 2 features" in titles[0] and "· 5 features" in titles[1] and "· 2 features" in titles[2]
    assert all(ax.collections for ax in fig.axes)  # a filled surface under the points


def test_decision_boundaries_show_the_metrics_given(circles, toy_models):
    fig = plots.decision_boundaries({"logreg": toy_models["logreg"]}, circles, {"logreg": (0.4925, 2)})
    assert _titles(fig) == ["logreg\ntest acc 0.492 · 2 features"]


def test_with_several_seeds_the_boundaries_are_titled_with_the_drawn_models_scores(tmp_path):
    """The figure draws the first seed's models: each panel gives that model's own score, and the
    title says whose models they are (before, the panels gave the mean over seeds)."""
    from conftest import TINY
    from ladder.experiments import resolve
    from ladder.figures import experiment_figures
    from ladder.runner import run_experiment

    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY, encoding="utf-8")
    run = run_experiment(resolve(str(spec)), [0, 1, 2])
    mlp = next(r for r in run.record["rungs"] if r["name"] == "mlp")["metrics"]["test_accuracy"]
    assert len(set(mlp["values"])) > 1  # the seeds disagree, so the mean is no seed's score
    (title, draw), = [(title, draw) for slug, title, draw in experiment_figures(run)
                      if slug == "decision-boundaries"]
    assert "first seed" in title
    panels = _titles(draw())
    for name, model in run.models.items():
        (panel,) = [t for t in panels if t.startswith(f"{name}\n")]
        assert f"test acc {_test_accuracy(model, run.dataset):.3f}" in panel
    assert f"test acc {mlp['values'][0]:.3f}" in panels[1]


def test_decision_boundaries_for_several_classes():
    blobs = data.load("blobs", n=120, centers=3)
    fig = plots.decision_boundaries({"logreg": LogisticRegression().fit(blobs.X_train, blobs.y_train)}, blobs)
    assert len(fig.axes) == 1 and "test acc" in fig.axes[0].get_title()


def test_regression_fits_put_r2_in_the_legend(sine):
    models = {"linear": LinearRegression().fit(sine.X_train, sine.y_train),
              "mlp": TorchRegressor(module="mlp", hidden=(8,), epochs=30, random_state=0)
              .fit(sine.X_train, sine.y_train)}
    fig = plots.regression_fits(models, sine)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    for name, est in models.items():
        assert f"{name} (R² = {est.score(sine.X_test, sine.y_test):.3f})" in labels
    assert "true function" in labels
    fig = plots.regression_fits(models, sine, r2={"linear": 0.01234, "mlp": 0.5})
    assert "linear (R² = 0.012)" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_hidden_units_one_row_per_layer(circles, toy_models):
    fig = plots.hidden_units(toy_models["mlp"], circles, units=3)
    titles = _titles(fig)
    assert len(titles) == 6
    assert sum(t.startswith("layer 1") for t in titles) == 3
    assert sum(t.startswith("layer 2") for t in titles) == 3


def test_hidden_units_contour_spans_the_units_activation(circles):
    X, y = circles.X_train, circles.y_train
    pipe = make_pipeline(StandardScaler(), TorchClassifier(module="mlp", hidden=(6,), epochs=20,
                                                           random_state=0)).fit(X, y)
    fig = plots.hidden_units(pipe, circles, layers=0, units=[2, 4])
    assert _titles(fig) == ["layer 1 · unit 2", "layer 1 · unit 4"]
    # the contour's levels cover the unit's activation over the data (through the scaler)
    module = pipe[-1].module_
    with torch.no_grad():
        acts = module.hidden_activations(torch.tensor(pipe[0].transform(X), dtype=torch.float32))[0]
    levels = fig.axes[0].collections[0].levels
    assert levels.min() <= acts[:, 2].min().item() and levels.max() >= acts[:, 2].max().item()


def test_hidden_units_needs_an_mlp(circles, toy_models):
    with pytest.raises(ValueError, match="not a fitted PyTorch rung"):
        plots.hidden_units(toy_models["logreg"], circles)


# -- records ------------------------------------------------------------------------------------
def _metric(*values):
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "values": list(values)}


@pytest.fixture
def record():
    return {
        "name": "circles", "title": "two circles", "task": "classification", "dataset": {"name": "circles"},
        "rungs": [
            {"name": "logreg", "backend": "sklearn", "n_features": 2, "n_params": 3,
             "metrics": {"test_accuracy": _metric(0.49, 0.51)}},
            {"name": "logreg+poly2", "backend": "sklearn", "n_features": 5, "n_params": 6,
             "features": {"kind": "polynomial", "degree": 2},
             "metrics": {"test_accuracy": _metric(0.99, 0.97)}},
            {"name": "mlp", "backend": "torch", "n_features": 2, "n_params": 337,
             "metrics": {"test_accuracy": _metric(0.96, 0.96)},
             "history": {"loss": [[0.7, 0.5, 0.3], [0.9, 0.5, 0.1]],
                         "test_accuracy": [[0.5, 0.8, 0.9], [0.6, 0.8, 1.0]]}},
        ],
        "claims": [],
    }


@pytest.fixture
def regression_record():
    return {
        "name": "sine", "title": "sine", "task": "regression",
        "rungs": [{"name": "linear+poly5", "backend": "sklearn", "features": {"kind": "polynomial"},
                   "metrics": {"test_r2": _metric(0.93)}},
                  {"name": "mlp", "backend": "torch", "metrics": {"test_r2": _metric(0.95)},
                   "history": {"loss": [[1.0, 0.2]]}}],
    }


def test_training_curves_plot_the_mean_over_seeds(record):
    fig = plots.training_curves(record)
    loss_ax, accuracy_ax = fig.axes
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), [0.8, 0.5, 0.2])
    np.testing.assert_allclose(accuracy_ax.lines[0].get_ydata(), [0.55, 0.8, 0.95])
    assert loss_ax.get_yscale() == "log"


def test_training_curves_without_a_test_curve_have_one_panel(regression_record):
    assert len(plots.training_curves(regression_record).axes) == 1


def test_accuracy_per_epoch_from_estimator_histories(digit_models):
    histories = {name: digit_models[name].history_ for name in ("linear", "cnn")}
    ax = plots.accuracy_per_epoch(histories).axes[0]
    assert [line.get_label() for line in ax.lines] == ["linear", "cnn"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), histories["cnn"]["test_accuracy"])


def test_a_one_epoch_curve_is_a_visible_dot_and_a_long_one_a_plain_line():
    histories = {"cnn": {"test_accuracy": [0.99]}, "logreg": {"test_accuracy": list(np.linspace(0.8, 0.9, 50))}}
    cnn, logreg = plots.accuracy_per_epoch(histories).axes[0].lines
    assert list(cnn.get_xdata()) == [1] and cnn.get_marker() == "o"
    assert logreg.get_marker() in ("None", "", None)


def test_accuracy_per_epoch_over_several_records(record):
    other = {**record, "name": "spirals"}
    ax = plots.accuracy_per_epoch([record, other]).axes[0]
    assert [line.get_label() for line in ax.lines] == ["circles/mlp", "spirals/mlp"]


def test_final_accuracy_bars_one_bar_per_rung(record):
    ax = plots.final_accuracy_bars(record).axes[0]
    widths = [patch.get_width() for patch in ax.patches]
    np.testing.assert_allclose(widths, [0.50, 0.98, 0.96])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["logreg", "logreg+poly2", "mlp"]


@pytest.mark.parametrize("rung, family", [
    ({"name": "logreg"}, "engineered"),
    ({"name": "logreg+poly2", "features": {"kind": "polynomial"}}, "engineered"),
    ({"name": "linear-torch"}, "engineered"),
    ({"name": "stacked"}, "engineered"),
    ({"name": "mlp"}, "learned"),
    ({"name": "cnn-fast"}, "learned"),
    ({"name": "mlp+hog", "features": {"kind": "hog"}}, "engineered"),
    ({"name": "deep", "model": {"kind": "cnn"}}, "learned"),
])
def test_rung_family_rule(rung, family):
    assert plots.rung_family(rung) == family


def test_full_picture_compares_the_best_of_each_family(record, regression_record):
    fig = plots.full_picture({"experiments": [record, regression_record]})
    cells = fig.axes[0].tables[0].get_celld()
    row1 = [cells[1, c].get_text().get_text() for c in range(6)]
    row2 = [cells[2, c].get_text().get_text() for c in range(6)]
    assert row1 == ["two circles", "logreg+poly2", "0.980 acc", "mlp", "0.960 acc", "-0.020"]
    assert row2 == ["sine", "linear+poly5", "0.930 R²", "mlp", "0.950 R²", "+0.020"]


# -- images -------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [8, 28])
def test_sample_digits_grid_with_labels(size, digits, mnist_like):
    ds = digits if size == 8 else mnist_like
    fig = plots.sample_digits(ds, n=12)
    axes = _image_axes(fig)
    assert len(axes) == 12
    assert all(ax.images[0].get_array().shape == (size, size) for ax in axes)
    assert [ax.get_title() for ax in axes] == [str(label) for label in ds.y_train[:12]]


@pytest.mark.parametrize("name", ["linear", "logreg"])
def test_linear_templates_centre_the_colour_map_at_zero(name, digit_models):
    est = digit_models[name]
    axes = _image_axes(plots.linear_templates(est))
    assert len(axes) == 10
    weights = (est.coef_ if name == "logreg" else est.module_.linear.weight.detach().numpy())
    for ax, row in zip(axes, weights):
        image = ax.images[0]
        assert image.get_array().shape == (8, 8)
        np.testing.assert_allclose(image.get_array(), row.reshape(8, 8), rtol=1e-6)
        low, high = image.get_clim()
        assert low == -high == -np.abs(weights).max()


def test_linear_templates_on_28x28(mnist_like):
    est = TorchClassifier(module="linear", epochs=1, random_state=0).fit(_rows(mnist_like.X_train),
                                                                         mnist_like.y_train)
    axes = _image_axes(plots.linear_templates(est))
    assert [ax.images[0].get_array().shape for ax in axes] == [(28, 28)] * 10


def test_cnn_filters_are_sixteen_3x3_weights(digit_models):
    cnn = digit_models["cnn"]
    axes = _image_axes(plots.cnn_filters(cnn))
    assert len(axes) == 16
    weights = cnn.module_.conv1.weight.detach().numpy()[:, 0]
    for ax, w in zip(axes, weights):
        assert ax.images[0].get_array().shape == (3, 3)
        np.testing.assert_allclose(ax.images[0].get_array(), w)
        low, high = ax.images[0].get_clim()
        assert low == -high


@pytest.mark.parametrize("size", [8, 28])
def test_cnn_activations_show_both_layers(size, digits, digit_models, mnist_like):
    if size == 8:
        cnn, image = digit_models["cnn"], digits.X_test[0]
    else:
        cnn = TorchClassifier(module="cnn", epochs=1, random_state=0).fit(_rows(mnist_like.X_train),
                                                                          mnist_like.y_train)
        image = mnist_like.X_test[0]
    shapes = [ax.images[0].get_array().shape for ax in _image_axes(plots.cnn_activations(cnn, image))]
    assert shapes.count((size, size)) == 1 + 16  # the input and the first layer's maps
    assert shapes.count((size // 2, size // 2)) == 32
    assert len(shapes) == 49


def test_templates_vs_filters_side_by_side(digit_models):
    fig = plots.templates_vs_filters(digit_models["logreg"], digit_models["cnn"])
    shapes = [ax.images[0].get_array().shape for ax in _image_axes(fig)]
    assert shapes.count((8, 8)) == 10 and shapes.count((3, 3)) == 16
    assert _png(fig).startswith(b"\x89PNG")


def test_edge_maps_default_gradient_and_custom_function(digits):
    fig = plots.edge_maps(digits.X_test)
    axes = _image_axes(fig)
    assert len(axes) == 10
    gy, gx = np.gradient(digits.X_test[0].astype(float))
    np.testing.assert_allclose(axes[5].images[0].get_array(), np.hypot(gx, gy))
    fig = plots.edge_maps(digits.X_test, edge_fn=lambda images: np.ones(images.shape), n=3)
    axes = _image_axes(fig)
    assert len(axes) == 6 and np.all(axes[3].images[0].get_array() == 1)


def test_misclassified_shows_the_first_mistakes(digits, digit_models):
    cnn = digit_models["cnn"]
    predicted = cnn.predict(_rows(digits.X_test))
    wrong = np.flatnonzero(predicted != digits.y_test)
    assert len(wrong) >= 5  # two epochs on 200 digits leave plenty of mistakes
    fig = plots.misclassified(cnn, digits, n=5)
    axes = _image_axes(fig)
    assert len(axes) == 5
    assert [ax.get_title() for ax in axes] == [f"true {digits.y_test[i]} → {predicted[i]}" for i in wrong[:5]]
    np.testing.assert_array_equal(axes[0].images[0].get_array(), digits.X_test[wrong[0]])
    assert f"{len(wrong)} of {len(digits.y_test)}" in fig.get_suptitle()


def test_misclassified_with_no_mistakes(digits, digit_models):
    fig = plots.misclassified(digit_models["cnn"], digits, predicted=digits.y_test)
    assert _image_axes(fig) == [] and "no mistakes" in fig.axes[0].texts[0].get_text()


def test_misclassified_counts_read_with_thousands_separators():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(1200, 8, 8), dtype=np.uint8)
    labels = np.arange(1200) % 10
    ds = Dataset("digits", "classification", images[:10], images, labels[:10], labels)
    predicted = np.where(np.arange(1200) < 1050, (labels + 1) % 10, labels)
    fig = plots.misclassified(None, ds, n=5, predicted=predicted)
    assert fig.get_suptitle().startswith("1,050 of 1,200 test digits misclassified")


def test_the_moved_digit_is_named_as_a_test_image_showing_its_digit(digits, digit_models):
    index = 2
    fig = plots.moved_digit({"linear": digit_models["linear"]}, digits, index=index)
    title = fig.get_suptitle()
    assert title.startswith(f"Test image #{index}, a handwritten {digits.y_test[index]},")
    assert f"Test digit {index}" not in title  # it read as the digit {index}


def test_confusion_matrix_counts_every_test_digit(digits, digit_models):
    models = {"linear": digit_models["linear"], "cnn": digit_models["cnn"]}
    fig = plots.confusion(models, digits)
    axes = _image_axes(fig)
    assert len(axes) == 2
    for ax, (name, est) in zip(axes, models.items()):
        counts = np.expm1(np.asarray(ax.images[0].get_array())).round()  # colour is log(1 + count)
        assert counts.sum() == len(digits.y_test)
        diagonal = {(round(t.get_position()[0]), round(t.get_position()[1])): int(t.get_text()) for t in ax.texts}
        assert all(diagonal[(k, k)] == counts[k, k] for k in range(len(counts)))  # every diagonal is labelled
        assert all(counts[i, j] >= 10 for (j, i) in diagonal if i != j)  # and only big confusions besides
        assert f"test acc {_test_accuracy(est, digits):.3f}" in ax.get_title()


def test_projections_pca_variance_matches_sklearn(digits):
    result = plots.projections(digits, n=150, tsne=False)
    expected = PCA(2).fit(_rows(digits.X_train[:150]).astype(float)).explained_variance_ratio_
    assert 0 < result.explained_variance < 1
    assert result.explained_variance == pytest.approx(expected.sum(), rel=1e-6)
    assert len(result.figure.axes) == 1
    assert f"{result.explained_variance:.1%}" in result.figure.axes[0].get_title()


def test_projections_with_tsne_add_a_panel(digits):
    result = plots.projections(digits, n=120, tsne=True)
    assert len(result.figure.axes) == 2 and "t-SNE" in result.figure.axes[1].get_title()
    assert len(result.figure.axes[1].collections[0].get_offsets()) == 120


def test_pca_decision_regions_report_test_accuracy(digits):
    result = plots.pca_decision_regions(digits, n=150)
    X = _rows(digits.X_train[:150]).astype(float)
    pca = PCA(2).fit(X)
    scaler = StandardScaler().fit(pca.transform(X))
    model = LogisticRegression(max_iter=1000).fit(scaler.transform(pca.transform(X)), digits.y_train[:150])
    expected = model.score(scaler.transform(pca.transform(_rows(digits.X_test).astype(float))), digits.y_test)
    assert 0 <= result.test_accuracy <= 1
    assert result.test_accuracy == pytest.approx(expected, abs=0.02)
    assert f"test acc {result.test_accuracy:.3f}" in result.figure.axes[0].get_title()


def test_figures_leave_no_pyplot_state_and_render(circles, toy_models, digits, digit_models):
    plt.close("all")
    figures = [plots.decision_boundaries(toy_models, circles),
               plots.cnn_activations(digit_models["cnn"], digits.X_test[0]),
               plots.confusion(digit_models["cnn"], digits)]
    assert plt.get_fignums() == []
    assert all(_png(fig).startswith(b"\x89PNG") for fig in figures)


def test_full_picture_scores_part_5_on_moved_digits_and_never_calls_raw_pixels_a_phi():
    """Part 5's row: its point is moved digits, so the rungs are ranked by accuracy averaged over
    the moves, and its linear model on raw pixels is named as what it is, not a hand-made φ."""
    from ladder.full_picture import rows

    def rung(name, kind, unmoved, moved, features=None):
        metrics = {"test_accuracy": {"mean": unmoved}, "shift_0_accuracy": {"mean": unmoved},
                   "shift_3_accuracy": {"mean": moved}}
        return {"name": name, "model": {"kind": kind}, "metrics": metrics, **({"features": features} if features else {})}

    part5 = {"name": "mnist-shift", "title": "Part 5", "task": "classification",
             "probes": {"shift": [0, 3], "rotate": []},
             "rungs": [rung("linear", "logistic", 0.93, 0.15), rung("linear+aug", "logistic", 0.85, 0.70),
                       rung("mlp", "mlp", 0.98, 0.40), rung("cnn", "cnn", 0.99, 0.90)]}
    part1 = {"name": "circles", "title": "Part 1", "task": "classification",
             "rungs": [rung("logreg", "logistic", 0.5, 0.5), rung("logreg+poly2", "logistic", 0.99, 0.99,
                                                                    features={"kind": "polynomial"})]}
    (row5, row1) = rows([part5, part1])
    assert row5[1] == "linear+aug (no φ, raw inputs)" and row5[2] == "0.775 acc, moved digits"
    assert row5[3] == "cnn" and row5[4] == "0.945 acc, moved digits" and row5[5] == "+0.170"
    assert row1[1] == "logreg+poly2" and row1[2] == "0.990 acc"
