"""The shape detective: layer by layer, the course's parameter arithmetic."""

from __future__ import annotations

import pytest

from ladder.anatomy import layers, module_for
from ladder.models import MLP, LinearNet, SimpleCNN


def test_the_course_cnn_adds_up_to_206922_in_the_courses_form():
    rows = {r["name"]: r for r in layers(SimpleCNN((28, 28), 10), (28, 28))}
    assert rows["conv1"]["arithmetic"] == "(3·3·1 + 1)·16 = 160"
    assert rows["conv2"]["arithmetic"] == "(3·3·16 + 1)·32 = 4,640"
    assert rows["flatten"]["arithmetic"] == "32·7·7 = 1,568 inputs"
    assert rows["fc1"]["arithmetic"] == "(1,568 + 1)·128 = 200,832"
    assert rows["total"]["params"] == 206_922
    assert rows["total"]["arithmetic"] == "160 + 4,640 + 200,832 + 1,290 = 206,922"


def test_shapes_follow_the_sample_through_the_network():
    shapes = [(r["name"], r["shape"]) for r in layers(SimpleCNN((28, 28), 10), (28, 28))]
    assert shapes[:5] == [("conv1", "16×28×28"), ("pool", "16×14×14"), ("conv2", "32×14×14"),
                          ("pool", "32×7×7"), ("flatten", "1568")]


def test_in_features_of_a_28x28_image_is_784():
    rows = layers(LinearNet((28, 28), 10), (28, 28))
    assert rows[0]["arithmetic"] == "28·28 = 784 inputs"
    assert rows[1]["arithmetic"] == "(784 + 1)·10 = 7,850"


def test_every_row_adds_up_to_the_modules_own_count():
    mlp = MLP((2,), 1, (64, 64))
    rows = layers(mlp, (2,))
    assert rows[-1]["params"] == sum(p.numel() for p in mlp.parameters()) == 4_417
    assert sum(r["params"] for r in rows[:-1]) == 4_417


def test_inspect_a_rung_of_a_built_in_experiment(invoke):
    result = invoke("inspect", "mnist:cnn")
    assert result.exit_code == 0, result.output
    assert "(3·3·1 + 1)·16 = 160" in result.stdout and "206,922" in result.stdout


def test_inspect_a_model_kind_with_parameters(invoke):
    result = invoke("inspect", "mlp", "--param", "hidden=[128]", "--inputs", "28x28", "--outputs", "10")
    assert result.exit_code == 0, result.output
    assert "101,770" in result.stdout and "28·28 = 784 inputs" in result.stdout


def test_a_rung_after_its_features_sees_their_count():
    module, in_shape, _ = module_for("spirals:logreg+poly6")
    assert in_shape == (27,) and sum(p.numel() for p in module.parameters()) == 28


@pytest.mark.parametrize("args, says", [
    (["mnist:nope"], "no rung 'nope'; its rungs: logreg"),
    (["transformer"], "unknown model 'transformer'"),
    (["mlp", "--param", "hidden=[1"], "--param 'hidden=[1': write KEY=VALUE"),
    (["mlp", "--inputs", "28by28"], "--inputs '28by28'"),
    (["mlp", "--param", 'activation="bad"'], "unknown activation 'bad'"),
])
def test_inspect_mistakes_are_one_line_exit_2(invoke, args, says):
    result = invoke("inspect", *args)
    assert result.exit_code == 2
    assert says in result.stderr and "Traceback" not in result.stderr


def test_the_report_shows_each_torch_rungs_layers(part):
    _, results = part("spirals")
    mlp = next(r for r in results["experiments"][0]["rungs"] if r["name"] == "mlp")
    assert mlp["layers"][-1]["params"] == mlp["n_params"] == 4_417
    logreg = next(r for r in results["experiments"][0]["rungs"] if r["name"] == "logreg")
    assert "layers" not in logreg
