"""The networks of the ladder: parameter counts a reader can check by hand, and what each can express."""

import pytest
import torch
from torch import nn

from ladder.models import ACTIVATIONS, MLP, MODULES, LinearNet, SignalCNN, SimpleCNN, StackedLinear, count_parameters


def test_linear_net_on_two_inputs_has_three_parameters():
    # y = w1·x1 + w2·x2 + b
    assert count_parameters(LinearNet((2,), 1)) == 3
    assert count_parameters(LinearNet((28, 28), 10)) == 784 * 10 + 10


def test_linear_net_is_y_equals_wx_plus_b():
    torch.manual_seed(0)
    net = LinearNet((3,), 2)
    x = torch.randn(5, 3)
    expected = x @ net.linear.weight.T + net.linear.bias
    torch.testing.assert_close(net(x), expected)


def test_mlp_on_spirals_has_4417_parameters():
    # 2·64+64 + 64·64+64 + 64+1
    net = MLP((2,), 1, hidden=(64, 64))
    assert count_parameters(net) == 4417 == 2 * 64 + 64 + 64 * 64 + 64 + 64 + 1


@pytest.mark.parametrize("hidden, expected", [
    ((16, 16), 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1),  # circles: 337
    ((64,), 2 * 64 + 64 + 64 + 1),
    ((), 3),  # no hidden layer: logistic regression
])
def test_mlp_parameter_counts(hidden, expected):
    assert count_parameters(MLP((2,), 1, hidden=hidden)) == expected


def test_mlp_layers_alternate_linear_and_activation():
    net = MLP((2,), 3, hidden=(5, 4), activation="tanh")
    kinds = [type(layer) for layer in net.layers]
    assert kinds == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert net(torch.zeros(7, 2)).shape == (7, 3)


@pytest.mark.parametrize("name, cls", [("relu", nn.ReLU), ("tanh", nn.Tanh), ("sigmoid", nn.Sigmoid),
                                       ("identity", nn.Identity)])
def test_mlp_uses_the_activation_it_is_given(name, cls):
    net = MLP((2,), 1, hidden=(4,), activation=name)
    assert isinstance(net.layers[1], cls)
    assert ACTIVATIONS[name] is cls


def test_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match="swish.*relu, tanh, sigmoid, identity"):
        MLP((2,), 1, activation="swish")


def test_mlp_with_an_activation_is_not_linear():
    # f(a + b) = f(a) + f(b) - f(0) holds for every affine map, and fails once a non-linearity bends it
    torch.manual_seed(0)
    a, b, zero = torch.randn(20, 2), torch.randn(20, 2), torch.zeros(20, 2)
    for activation in ("relu", "tanh", "sigmoid"):
        net = MLP((2,), 1, hidden=(16,), activation=activation)
        with torch.no_grad():
            gap = (net(a + b) - (net(a) + net(b) - net(zero))).abs().max()
        assert gap > 1e-3, activation
    identity = MLP((2,), 1, hidden=(16,), activation="identity")
    with torch.no_grad():
        torch.testing.assert_close(identity(a + b), identity(a) + identity(b) - identity(zero))


def test_hidden_activations_returns_each_hidden_layer():
    net = MLP((2,), 1, hidden=(8, 5), activation="relu")
    outputs = net.hidden_activations(torch.randn(10, 2))
    assert [o.shape for o in outputs] == [(10, 8), (10, 5)]
    assert all((o >= 0).all() for o in outputs)  # after the ReLU


def test_stacked_linear_layers_are_still_one_line():
    """W₃(W₂(W₁x + b₁) + b₂) + b₃ is one matrix W₃W₂W₁ and one bias: depth without σ adds nothing."""
    torch.manual_seed(0)
    net = StackedLinear((3,), 2, hidden=(7, 5))
    layers = list(net.layers)
    assert all(isinstance(layer, nn.Linear) for layer in layers) and len(layers) == 3
    weight, bias = torch.eye(3), torch.zeros(3)
    for layer in layers:
        weight, bias = layer.weight @ weight, layer.weight @ bias + layer.bias
    x = torch.randn(11, 3)
    with torch.no_grad():
        torch.testing.assert_close(net(x), x @ weight.T + bias)
    assert weight.shape == (2, 3)


def test_stacked_linear_parameter_count():
    # 2·500+500 + 500·1+1: a thousand times the parameters of the line it still is
    assert count_parameters(StackedLinear((2,), 1)) == 2 * 500 + 500 + 500 + 1
    assert count_parameters(StackedLinear((2,), 1, hidden=(4, 3))) == (2 * 4 + 4) + (4 * 3 + 3) + (3 + 1)


def test_simple_cnn_has_the_courses_206922_parameters():
    net = SimpleCNN((28, 28), 10)
    assert count_parameters(net) == 206_922
    assert count_parameters(net.conv1) == 16 * 1 * 3 * 3 + 16 == 160
    assert count_parameters(net.conv2) == 32 * 16 * 3 * 3 + 32 == 4_640
    assert count_parameters(net.fc1) == 1568 * 128 + 128 == 200_832
    assert count_parameters(net.fc2) == 128 * 10 + 10 == 1_290


def test_simple_cnn_accepts_images_with_or_without_a_channel():
    net = SimpleCNN((28, 28), 10).eval()
    x = torch.randn(4, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(net(x), net(x.unsqueeze(1)))
        assert net(x).shape == (4, 10)
        assert net.features(x.unsqueeze(1)).shape == (4, 32, 7, 7)


def test_simple_cnn_on_8x8_digits():
    net = SimpleCNN((8, 8), 10)
    assert net.fc1.in_features == 32 * 2 * 2
    assert net(torch.randn(3, 1, 8, 8)).shape == (3, 10)


def test_modules_by_name():
    assert MODULES == {"linear": LinearNet, "stacked_linear": StackedLinear, "mlp": MLP, "cnn": SimpleCNN,
                       "cnn1d": SignalCNN}
    for name, cls in MODULES.items():
        shape = (8, 8) if name == "cnn" else (4,)
        net = cls(shape, 3)
        assert net(torch.randn(2, *shape)).shape == (2, 3), name


def test_seeded_starting_weights_do_not_depend_on_other_threads():
    # Two fits in two threads (a run's parallel jobs) build their modules at the same moment:
    # each must draw from its own seed, not from the other's, however their draws interleave.
    import threading

    from ladder.models import seeded

    def weights(seed):
        with seeded(seed):
            module = MLP((2,), 1, hidden=(64, 64))
        return torch.cat([p.detach().flatten() for p in module.parameters()])

    expected = {seed: weights(seed) for seed in (0, 1)}
    start, wrong = threading.Barrier(2), []

    def build(seed):
        start.wait()
        wrong.extend(seed for _ in range(300) if not torch.equal(weights(seed), expected[seed]))
    threads = [threading.Thread(target=build, args=(seed,)) for seed in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert not torch.equal(expected[0], expected[1])
