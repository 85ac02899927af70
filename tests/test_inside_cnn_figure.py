"""The report's "Inside the CNN" figure (issue 36): every layer with its arithmetic, one pixel's
dot product with its numbers, and a moved digit whose map moves along."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ladder import inside, plots  # noqa: E402
from ladder.estimators import TorchClassifier  # noqa: E402
from ladder.plots._common import rows, torch_inputs  # noqa: E402


@pytest.fixture(scope="module")
def cnn_and_digit():
    """A CNN rung fitted for one epoch on random 28×28 images, and a bar-shaped test 'digit'."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    cnn = TorchClassifier(module="cnn", epochs=1, random_state=0).fit(X.reshape(40, -1), np.arange(40) % 10)
    digit = np.zeros((28, 28), np.uint8)
    digit[5:23, 11:16] = 255
    return cnn, digit


def _texts(fig) -> list[str]:
    found = [t.get_text() for sub in fig.subfigs for t in (sub._suptitle, sub._supxlabel) if t is not None]
    return found + [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title() for ax in fig.axes]


def test_every_layer_is_drawn_with_its_shape_arithmetic_and_a_caption(cnn_and_digit):
    fig = plots.inside_cnn(*cnn_and_digit, label=1)
    texts = "\n".join(_texts(fig))
    for words in ("input · image · output 1×28×28 · 28·28 = 784 pixels · label 1",
                  "conv1 · conv 3×3, 1→16 · output 16×28×28 · (3·3·1 + 1)·16 = 160 (the first 8 of 16 maps)",
                  "conv2 · conv 3×3, 16→32 · output 32×14×14 · (3·3·16 + 1)·32 = 4,640",
                  "pool2 · max-pool 2×2 · output 32×7×7", "flatten · flatten · output 1568",
                  "fc1 · linear 1,568→128 · output 128 · (1,568 + 1)·128 = 200,832",
                  "fc2 · linear 128→10 · output 10 · (128 + 1)·10 = 1,290"):
        assert words in texts
    assert all(inside.CAPTIONS[name][:40] in texts for name in inside.CAPTIONS)


def test_the_dot_product_is_that_of_the_brightest_conv1_pixel_with_this_models_weights(cnn_and_digit):
    cnn, digit = cnn_and_digit
    fig = plots.inside_cnn(cnn, digit)
    module = cnn.module_
    x = torch_inputs(cnn, rows(digit[None])).float()
    conv1 = inside.layer_outputs(module, x)["conv1"].numpy()
    channel, row, col = np.unravel_index(conv1.argmax(), conv1.shape)
    written = next(t for t in _texts(fig) if "ReLU →" in t)
    assert written.endswith(f"ReLU → {conv1.max():.2f}, the brightest pixel of conv1")
    assert written.count("×") == 9
    kernel_axes = next(ax for ax in fig.axes if ax.get_title() == f"conv1 map {channel}'s kernel")
    shown = [float(t.get_text()) for t in kernel_axes.texts]
    assert np.allclose(shown, module.conv1.weight[channel, 0].detach().numpy().ravel(), atol=0.005)
    assert any(ax.get_title() == f"the input under it at ({row}, {col})" for ax in fig.axes)


def test_the_moved_digits_map_is_the_map_moved(cnn_and_digit):
    cnn, digit = cnn_and_digit
    fig = plots.inside_cnn(cnn, digit, shift=3)
    maps = {ax.get_title(): ax.images[0].get_array() for ax in fig.axes if ax.get_title().startswith("conv1 map ")
            and not ax.get_title().endswith("kernel")}
    (still_title, still), (moved_title, moved) = maps.items()
    assert moved_title == still_title + ", moved"
    assert np.allclose(moved[:, 4:-1], still[:, 1:-4], atol=1e-5)
