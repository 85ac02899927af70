"""Inside the CNN (issue 36): every layer of the chosen CNN, the dot product behind one map pixel,
a digit that moves, and the CNNs of a run to pick from."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from starlette.testclient import TestClient

from ladder.models import MLP, LinearNet, SimpleCNN, seeded
from ladder import inside
from ladder.play.digits import DRAW_SIDE, Digits, read_cnns
from ladder.play.protocol import MessageError
from ladder.play.server import create_app

from test_play_server import grid, receive, told, untrained_digits


def cnn(seed=0) -> SimpleCNN:
    with seeded(seed):
        return SimpleCNN().eval()


def digit_input(seed=0) -> torch.Tensor:
    """A normalised (1, 1, 28, 28) input with a blob of ink in the middle, zero paper round it."""
    image = np.zeros((28, 28), np.float32)
    image[8:20, 11:17] = np.random.default_rng(seed).uniform(0.5, 1, (12, 6))
    return torch.from_numpy((image - 0.1307) / 0.3081)[None, None]


def stroke() -> np.ndarray:
    ink = np.zeros((DRAW_SIDE, DRAW_SIDE), np.uint8)
    ink[20:90, 50:62] = 255
    return ink


def test_every_layer_is_the_models_own_computation_with_the_shape_detectives_arithmetic():
    model, x = cnn(), digit_input()
    outputs = inside.layer_outputs(model, x)
    with torch.no_grad():
        assert torch.allclose(outputs["fc2"], model(x)[0], atol=1e-5)  # the ten scores it predicts from
    steps = inside.layers(model, x)
    assert [s["name"] for s in steps] == ["input", "conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "fc2"]
    assert [s["shape"] for s in steps] == ["1×28×28", "16×28×28", "16×14×14", "32×14×14", "32×7×7", "1568", "128", "10"]
    assert [s["grid"].shape for s in steps] == [(1, 28, 28), (16, 28, 28), (16, 14, 14), (32, 14, 14), (32, 7, 7),
                                                (32, 49), (8, 16), (1, 10)]
    by_name = {s["name"]: s for s in steps}
    assert by_name["conv1"]["arithmetic"] == "(3·3·1 + 1)·16 = 160"
    assert by_name["conv2"]["arithmetic"] == "(3·3·16 + 1)·32 = 4,640"
    assert by_name["fc1"]["arithmetic"] == "(1,568 + 1)·128 = 200,832"
    assert sum(s["params"] for s in steps) == 206_922
    assert all(s["caption"].endswith(".") for s in steps)
    # One scale per layer, its largest value 255: a faint map stays faint beside a bright one.
    assert by_name["conv1"]["grid"].max() == 255 and by_name["conv2"]["grid"].max() == 255


@pytest.mark.parametrize("layer, channel, row, col", [("conv1", 3, 14, 14), ("conv1", 0, 0, 27),
                                                      ("conv2", 7, 6, 7), ("conv2", 31, 13, 0)])
def test_the_dot_product_written_out_gives_the_maps_value_at_that_pixel(layer, channel, row, col):
    model, x = cnn(), digit_input()
    told = inside.dot_product(model, x, layer, channel, row, col)
    n_in = 1 if layer == "conv1" else 16
    kernel, patch = np.array(told["kernel"]), np.array(told["patch"])
    assert kernel.shape == patch.shape == (n_in, 3, 3)
    assert np.allclose(kernel, getattr(model, layer).weight[channel].detach().numpy())
    assert told["sum"] == pytest.approx(float((kernel * patch).sum()) + told["bias"], abs=1e-4)
    assert told["output"] == pytest.approx(inside.layer_outputs(model, x)[layer][channel, row, col].item(), abs=1e-4)
    if col == 0 or col == 27:  # at the border the kernel hangs over the zero padding
        assert np.all(patch[:, :, 0 if col == 0 else 2] == 0)


def test_a_digit_moved_3_pixels_right_moves_the_first_maps_3_pixels_right():
    """Part 5's claim, seen in the maps: a convolution follows the digit."""
    model = cnn()
    image = np.zeros((28, 28), np.uint8)
    image[6:22, 10:15] = 255
    moved = inside.moved(image, dx=3)
    assert np.array_equal(moved[:, 3:], image[:, :-3])
    as_input = lambda im: torch.from_numpy((im / 255 - 0.1307) / 0.3081).float()[None, None]  # noqa: E731
    before = inside.layer_outputs(model, as_input(image))["conv1"]
    after = inside.layer_outputs(model, as_input(moved))["conv1"]
    assert torch.allclose(after[:, :, 4:-1], before[:, :, 1:-4], atol=1e-5)


def test_a_turned_digit_is_turned_about_its_centre():
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 13:15] = 255  # a vertical bar through the centre
    turned = inside.moved(image, degrees=30)
    rows, cols = np.nonzero(turned > 128)
    slope = np.polyfit(rows, cols, 1)[0]  # columns per row down the bar
    assert slope == pytest.approx(np.tan(np.radians(30)), abs=0.1)  # anticlockwise: the top goes left
    assert abs(rows.mean() - 13.5) < 1 and abs(cols.mean() - 13.5) < 1


def three_models():
    return {"linear": LinearNet((784,), 10), "mlp": MLP((784,), 10, hidden=(16,)), "cnn": cnn(0)}


def test_a_drawing_gets_every_layer_of_the_chosen_cnn_moved_as_asked():
    digits = Digits(three_models(), {"mnist:cnn": {"module": cnn(0), "accuracy": 0.99},
                                     "mine:cnn": {"module": cnn(1), "accuracy": 0.97}})
    assert digits.default == "mnist:cnn"
    assert digits.choices() == [{"name": "mnist:cnn", "accuracy": 0.99}, {"name": "mine:cnn", "accuracy": 0.97}]
    still = digits.predict(stroke())
    mine = digits.predict(stroke(), model="mine:cnn")
    moved = digits.predict(stroke(), move=(2, -1, 15))
    assert still["model"] == "mnist:cnn" and mine["model"] == "mine:cnn"
    assert still["probabilities"]["cnn"] != mine["probabilities"]["cnn"]
    assert still["probabilities"]["linear"] == mine["probabilities"]["linear"]  # only the CNN is picked
    assert not np.array_equal(still["input"], moved["input"]) and moved["move"] == [2, -1, 15]
    assert np.array_equal(moved["input"], inside.moved(still["input"], 2, -1, 15))
    assert np.array_equal(still["feature_maps"], still["layers"][1]["grid"])


@pytest.mark.parametrize("change, words", [
    ({"move": {"dx": 5}}, "move.dx must be a number from -4 to 4, got 5"),
    ({"move": {"degrees": -31}}, "move.degrees must be a number from -30 to 30"),
    ({"move": {"dx": "1"}}, "move.dx must be a number"),
    ({"move": {"zoom": 2}}, "move must be {"),
    ({"model": "nope"}, "model 'nope': no such CNN here; choose one of mnist:cnn"),
    ({"pixels": "AAAA"}, "pixels must be 112×112"),
])
def test_a_bad_digit_request_is_told_what_is_wrong(change, words):
    digits = Digits(three_models())
    message = {"type": "digit", "pixels": base64.b64encode(stroke().tobytes()).decode(), **change}
    with pytest.raises(MessageError, match=words.replace("(", r"\(").replace("{", r"\{")):
        digits.request(message)


@pytest.mark.parametrize("change, words", [
    ({"layer": "conv3"}, "layer must be one of conv1, conv2, got 'conv3'"),
    ({"map": 16}, "map must be a whole number from 0 to 15 for conv1"),
    ({"layer": "conv2", "row": 14}, "row must be a whole number from 0 to 13 for conv2"),
    ({"col": 1.5}, "col must be a whole number"),
])
def test_a_bad_convolution_request_is_told_what_is_wrong(change, words):
    digits = Digits(three_models())
    message = {"type": "conv", "pixels": base64.b64encode(stroke().tobytes()).decode(),
               "layer": "conv1", "map": 0, "row": 0, "col": 0, **change}
    with pytest.raises(MessageError, match=words):
        digits.convolution(message)


def save_like_ladder_run(folder, name, module, accuracy_values, classes=range(10)):
    """A model as `ladder run --out` writes it (outputs.save_torch_models), and its results.json rows."""
    experiment, rung = name.split("--")
    kind = {"SimpleCNN": "cnn", "MLP": "mlp", "LinearNet": "logistic"}[type(module).__name__]
    tensors = {k: v.detach().contiguous() for k, v in module.state_dict().items()}
    (folder / "models").mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / "models" / f"{name}.safetensors"),
              metadata={"model": json.dumps({"kind": kind}), "module": type(module).__name__,
                        "n_features": "784", "classes": json.dumps(list(classes))})
    results = json.loads((folder / "results.json").read_text()) if (folder / "results.json").exists() \
        else {"schema": 1, "experiments": []}
    record = next((e for e in results["experiments"] if e["name"] == experiment), None)
    if record is None:
        record = {"name": experiment, "rungs": []}
        results["experiments"].append(record)
    record["rungs"].append({"name": rung, "metrics": {"test_accuracy": {"mean": float(np.mean(accuracy_values)),
                                                                         "values": accuracy_values}}})
    (folder / "results.json").write_text(json.dumps(results))


def test_a_runs_cnns_are_listed_with_their_first_seeds_test_accuracy(tmp_path):
    save_like_ladder_run(tmp_path, "mnist--mlp", MLP((784,), 10, hidden=(8,)), [0.97])
    save_like_ladder_run(tmp_path, "mnist--cnn", cnn(0), [0.991, 0.989])
    save_like_ladder_run(tmp_path, "mnist-shift--cnn+aug", cnn(1), [0.988])
    save_like_ladder_run(tmp_path, "my-digits--wide-cnn", cnn(2), [0.95])
    cnns = read_cnns(tmp_path)
    assert list(cnns) == ["mnist:cnn", "mnist-shift:cnn+aug", "my-digits:wide-cnn"]  # part 4's first
    assert [c["accuracy"] for c in cnns.values()] == [0.991, 0.988, 0.95]
    assert torch.equal(cnns["my-digits:wide-cnn"]["module"].conv1.weight, cnn(2).conv1.weight)
    assert read_cnns(tmp_path / "models").keys() == cnns.keys()  # the models/ folder itself also does


def test_a_run_of_cnns_only_stands_beside_part_4s_linear_model_and_mlp(tmp_path, monkeypatch):
    """The learner's own experiment file may hold a CNN rung and nothing else."""
    from ladder.play.digit_service import DigitService

    save_like_ladder_run(tmp_path, "my-digits--my-cnn", cnn(2), [0.95])
    part_4 = Digits(three_models(), {"mnist:cnn": {"module": cnn(0), "accuracy": 0.99}})
    monkeypatch.setattr(DigitService, "_part_4", lambda self: part_4)
    service = DigitService(models_dir=tmp_path)
    message = told(service)
    assert message["type"] == "digits", message
    assert message["cnns"] == [{"name": "mnist:cnn", "accuracy": 0.99}, {"name": "my-digits:my-cnn", "accuracy": 0.95}]
    assert message["default"] == "mnist:cnn"
    assert service.digits.modules["linear"] is part_4.modules["linear"]


# -- through the server ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    service = untrained_digits()
    service.digits = Digits(service.digits.modules, {"mnist:cnn": {"module": cnn(0), "accuracy": 0.99},
                                                     "mine:cnn": {"module": cnn(1), "accuracy": None}})
    with TestClient(create_app(digits=service, max_sessions=2)) as client:
        yield client


def test_the_page_is_told_the_cnns_to_pick_from(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "digits"})
        ready = receive(ws, "digits")
        assert ready["cnns"] == [{"name": "mnist:cnn", "accuracy": 0.99}, {"name": "mine:cnn", "accuracy": None}]
        assert ready["default"] == "mnist:cnn"


def test_a_moved_drawing_on_a_picked_cnn_and_one_pixels_dot_product_through_the_socket(client):
    pixels = base64.b64encode(stroke().tobytes()).decode()
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "digit", "pixels": pixels, "model": "mine:cnn", "move": {"dx": -4, "dy": 4, "degrees": 30}})
        digit = receive(ws, "digit")
        assert digit["model"] == "mine:cnn" and digit["move"] == [-4, 4, 30]
        assert [layer["name"] for layer in digit["layers"]][:3] == ["input", "conv1", "pool1"]
        assert grid(digit["layers"][3]["grid"]).shape == (32, 14, 14)
        ws.send_json({"type": "conv", "pixels": pixels, "model": "mine:cnn", "move": {"dx": -4, "dy": 4, "degrees": 30},
                      "layer": "conv2", "map": 5, "row": 7, "col": 6})
        conv = receive(ws, "conv")
        assert (conv["layer"], conv["map"], conv["row"], conv["col"]) == ("conv2", 5, 7, 6)
        assert conv["output"] == pytest.approx(max(conv["sum"], 0))
        assert grid(conv["kernel_grid"]).shape == (16, 3, 3)
        ws.send_json({"type": "digit", "pixels": pixels, "move": {"dx": 9}})
        assert "move.dx must be a number from -4 to 4" in receive(ws, "error")["message"]
