"""Inside the CNN (issue 36) in Debian's chromium: every layer, one pixel's dot product, a digit
that moves, a CNN of the learner's own experiment file picked from `ladder play --models DIR`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from test_play_browser import browser, by, page, serving  # noqa: F401 - fixtures shared with the playground's tests

MY_EXPERIMENT = """
name = "my-digits"
title = "My own CNN on MNIST"
dataset = { name = "mnist" }

[[rungs]]
name = "my-cnn"
model = { kind = "cnn" }
train = { epochs = 1, optimizer = "adam", lr = 0.003, batch_size = 256 }
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A run of the learner's own experiment file, written as a learner writes it: `ladder run --out`."""
    folder = tmp_path_factory.mktemp("my-run")
    (folder / "my-digits.toml").write_text(MY_EXPERIMENT)
    ladder = Path(sys.executable).with_name("ladder")
    done = subprocess.run([str(ladder), "run", str(folder / "my-digits.toml"), "--out", str(folder / "out")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder / "out"


@pytest.fixture(scope="module")
def url(tmp_path_factory, run_dir):
    """`ladder play --models RUN`'s server, part 4's models (trained briefly) beside the run's CNN."""
    from ladder.play.digit_service import DigitService
    from ladder.play.digits import train_and_cache
    from ladder.play.server import create_app

    part_4 = tmp_path_factory.mktemp("part-4")
    train_and_cache(part_4, n_train=6000, epochs=1)
    service = DigitService(run_dir, cache=part_4, n_train=6000, epochs=1)
    with serving(create_app(service)) as address:
        yield address


DONE = "lastDigit && !digitBusy && !digitDirty"


def draw_a_one(page) -> None:
    page.get_by_role("button", name="Draw a digit").click()
    page.wait_for_function("document.querySelectorAll('#templates canvas').length === 10")
    box = by(page, "digit-canvas").bounding_box()
    x = box["x"] + box["width"] * 0.45
    page.mouse.move(x, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    page.mouse.move(x + box["width"] * 0.1, box["y"] + box["height"] * 0.85, steps=12)
    page.mouse.up()
    page.wait_for_function(DONE)


def pixels(page, testid: str) -> np.ndarray:
    """The grey values a 28×28 (or smaller) canvas of the page shows."""
    values = page.evaluate("""(id) => { const c = document.querySelector(`[data-testid="${id}"]`);
        return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]; }""",
                           testid)
    width, height, rgba = values
    return np.array(rgba, dtype=int).reshape(height, width, 4)[:, :, 0]


def test_every_layer_of_the_cnn_is_drawn_with_its_shape_arithmetic_and_a_caption(page):
    draw_a_one(page)
    expected = {"input": ("1×28×28", 1), "conv1": ("(3·3·1 + 1)·16 = 160", 16), "pool1": ("16×14×14", 16),
                "conv2": ("(3·3·16 + 1)·32 = 4,640", 32), "pool2": ("32×7×7", 32),
                "flatten": ("32·7·7 = 1,568 inputs", 1), "fc1": ("(1,568 + 1)·128 = 200,832", 1),
                "fc2": ("(128 + 1)·10 = 1,290", 1)}
    for name, (words, n_pictures) in expected.items():
        layer = by(page, f"layer-{name}")
        assert words in layer.locator("h3").text_content()
        assert layer.locator("canvas").count() == n_pictures
        assert len(layer.locator("p.caption").text_content()) > 40  # one sentence: what to look for
    for name in ("conv1", "pool1", "conv2", "pool2"):  # the maps large enough to read
        assert by(page, f"layer-{name}").locator("canvas").first.bounding_box()["width"] >= 84
    assert by(page, "templates").locator("canvas").first.bounding_box()["width"] >= 84
    assert "templates stay where they are" in page.locator("#draw").text_content()
    assert page.problems == []


def test_clicking_a_map_pixel_shows_its_kernels_and_writes_out_its_dot_product(page):
    draw_a_one(page)
    by(page, "map-conv1-3").click(position={"x": 14.5 * 3, "y": 10.5 * 3})  # 3 screen pixels a map pixel
    page.wait_for_function("!document.querySelector('[data-testid=conv-detail]').hidden")
    detail = by(page, "conv-detail")
    assert "conv1 map 3, pixel (row 10, column 14)" in detail.text_content()
    assert detail.locator("canvas").count() == 1  # conv1 reads one channel: one 3×3 kernel
    written = by(page, "dot-product").text_content()
    terms = written.splitlines()[1].split(" + ")  # the line under "weights × the drawing's … pixels"
    assert len(terms) == 9 and all("×" in term for term in terms)
    assert "+ bias" in written and "ReLU →" in written

    by(page, "map-conv2-7").click(position={"x": 7.5 * 6, "y": 7.5 * 6})  # 6 screen pixels a map pixel
    page.wait_for_function("document.querySelector('[data-testid=conv-detail]').textContent.includes('conv2 map 7')")
    assert "conv2 map 7, pixel (row 7, column 7)" in detail.text_content()
    assert detail.locator("canvas").count() == 16  # one 3×3 kernel for each of the 16 pooled maps
    assert "sum of the 16" in by(page, "dot-product").text_content()
    assert page.locator("[data-testid=map-conv2-7].picked").count() == 1


def test_a_digit_moved_right_moves_the_cnns_maps_right_and_the_predictions_update(page):
    draw_a_one(page)
    before = {"input": pixels(page, "digit-input"), "map": pixels(page, "map-conv1-0"),
              "probabilities": page.evaluate("lastDigit.probabilities")}
    by(page, "move-dx").fill("3")
    page.wait_for_function(f"{DONE} && lastDigit.move[0] === 3")
    after = {"input": pixels(page, "digit-input"), "map": pixels(page, "map-conv1-0"),
             "probabilities": page.evaluate("lastDigit.probabilities")}
    assert by(page, "move-dx").locator("xpath=following-sibling::output").text_content() == "3 px"
    assert before["input"][:, -3:].max() == 0  # the ink was not cut off at the right
    assert np.array_equal(after["input"][:, 3:], before["input"][:, :-3])
    # The map moved with the digit (away from the borders, where the zero padding differs).
    assert np.abs(after["map"][:, 4:-1] - before["map"][:, 1:-4]).max() <= 1
    for role in ("linear", "mlp", "cnn"):
        assert after["probabilities"][role] != before["probabilities"][role]

    by(page, "move-degrees").fill("30")
    page.wait_for_function(f"{DONE} && lastDigit.move[2] === 30")
    turned = pixels(page, "digit-input")
    assert not np.array_equal(turned, after["input"])
    by(page, "move-reset").click()
    page.wait_for_function(f"{DONE} && lastDigit.move.every((v) => v === 0)")
    assert np.array_equal(pixels(page, "digit-input"), before["input"])


def test_a_cnn_of_the_learners_own_experiment_is_picked_from_the_run_with_its_accuracy(page, run_dir):
    results = json.loads((run_dir / "results.json").read_text())
    accuracy = results["experiments"][0]["rungs"][0]["metrics"]["test_accuracy"]["values"][0]
    draw_a_one(page)
    picker = by(page, "cnn-picker")
    options = picker.locator("option").all_text_contents()
    assert options[0].startswith("mnist:cnn (test accuracy ")  # part 4's, chosen by default
    assert f"my-digits:my-cnn (test accuracy {accuracy * 100:.1f}%)" in options
    assert picker.input_value() == "mnist:cnn"
    part_4 = page.evaluate("lastDigit.probabilities.cnn")
    picker.select_option("my-digits:my-cnn")
    page.wait_for_function(f"{DONE} && lastDigit.model === 'my-digits:my-cnn'")
    assert page.evaluate("lastDigit.probabilities.cnn") != part_4
    assert by(page, "pred-cnn").text_content().startswith("1")  # a full epoch on MNIST reads a one
