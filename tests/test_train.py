"""THE training loop: forward, loss, backward, step, zero_grad — and what happens when a step is left out."""

import math
import re

import pytest
import torch
from torch import nn

from ladder.models import MLP, LinearNet, seeded
from ladder.devices import device_available, pick_device
from ladder.train import make_loss, mixed_precision, smoothed_loss_floor, take, train


def line_data(n=100):
    """y = 2x + 1 on x ∈ [-1, 1]."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 1, generator=g) * 2 - 1
    return x, 2 * x + 1


def blob_data(n=120, classes=3):
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % classes
    centres = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0]])[:classes]
    return centres[y] + 0.3 * torch.randn(n, 2, generator=g), y


def fresh(cls=LinearNet, *args, seed=0, **kwargs):
    torch.manual_seed(seed)
    return cls(*args, **kwargs)


def test_loss_decreases_on_a_line():
    X, y = line_data()
    model = fresh(LinearNet, (1,), 1)
    history = train(model, X, y, loss="mse", optimizer="sgd", lr=0.1, epochs=200)
    assert len(history["loss"]) == 200
    assert history["loss"][-1] < history["loss"][0] / 100
    assert history["loss"][-1] < 1e-3
    # it found the line
    assert model.linear.weight.item() == pytest.approx(2.0, abs=0.05)
    assert model.linear.bias.item() == pytest.approx(1.0, abs=0.05)


def test_history_loss_is_the_mean_loss_of_each_epoch():
    X, y = line_data()
    model = fresh(LinearNet, (1,), 1)
    with torch.no_grad():
        before = nn.functional.mse_loss(model(X), y).item()
    history = train(model, X, y, loss="mse", optimizer="sgd", lr=0.1, epochs=1)
    # full batch: the epoch's loss is the loss before the single step
    assert history["loss"][0] == pytest.approx(before, rel=1e-6)


def test_cross_entropy_trains_a_three_class_classifier():
    X, y = blob_data()
    model = fresh(LinearNet, (2,), 3)
    history = train(model, X, y, loss="cross_entropy", optimizer="adam", lr=0.05, epochs=100)
    assert history["loss"][-1] < 0.1 < history["loss"][0]
    assert (model(X).argmax(1) == y).float().mean() == 1.0


def test_bce_with_logits_trains_a_binary_classifier():
    X, y = blob_data(classes=2)
    target = y.float()[:, None]
    model = fresh(LinearNet, (2,), 1)
    history = train(model, X, target, loss="bce", optimizer="adam", lr=0.05, epochs=100)
    assert history["loss"][-1] < 0.05
    assert ((model(X)[:, 0] > 0).long() == y).all()


def test_label_smoothing_keeps_a_classifier_from_certainty():
    """On separable blobs the plain loss drives the logits up for ever; smoothed, the model aims
    at 1 - ε + ε/k on the true class and stops there."""
    X, y = blob_data()
    probabilities = {}
    for eps in (0.0, 0.3):
        model = fresh(LinearNet, (2,), 3)
        train(model, X, y, loss="cross_entropy", lr=0.05, epochs=400, label_smoothing=eps)
        probabilities[eps] = torch.softmax(model(X), 1).max(1).values.detach()
        assert (model(X).argmax(1) == y).all()
    assert probabilities[0.0].mean() > 0.99
    target = 1 - 0.3 + 0.3 / 3
    assert abs(probabilities[0.3].mean().item() - target) < 0.03


def test_smoothed_bce_is_two_class_cross_entropy_with_the_same_smoothing():
    # One logit z is the two-class logits (0, z): smoothing must give the same loss both ways.
    z = torch.tensor([[-3.0], [0.5], [4.0], [1.0]])
    y = torch.tensor([0, 1, 1, 0])
    bce = make_loss("bce", 0.2)(z, y.float()[:, None])
    ce = make_loss("cross_entropy", 0.2)(torch.cat([torch.zeros_like(z), z], 1), y)
    assert bce.item() == pytest.approx(ce.item(), rel=1e-6)
    assert bce.item() != pytest.approx(make_loss("bce")(z, y.float()[:, None]).item(), rel=1e-3)


@pytest.mark.parametrize("k", [2, 3, 10])
def test_the_smoothed_loss_floor_is_what_a_model_predicting_the_target_itself_scores(k):
    eps = 0.1
    target = torch.full((k,), eps / k)
    target[0] += 1 - eps
    logits, y = target.log()[None].repeat(4, 1), torch.zeros(4, dtype=torch.long)
    floor = smoothed_loss_floor(eps, k)
    assert make_loss("cross_entropy", eps)(logits, y).item() == pytest.approx(floor, rel=1e-5)
    assert make_loss("cross_entropy", eps)(logits * 3, y).item() > floor  # any other prediction is worse
    assert smoothed_loss_floor(0.0, k) == 0.0
    assert smoothed_loss_floor(0.1, 10) == pytest.approx(0.50, abs=0.005)


@pytest.mark.parametrize("loss, eps, says", [("mse", 0.1, "the mse loss has no labels to smooth"),
                                             ("cross_entropy", 1.0, "must lie in [0, 1)"),
                                             ("bce", -0.1, "must lie in [0, 1)")])
def test_label_smoothing_is_refused_where_it_means_nothing(loss, eps, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        make_loss(loss, eps)


def count_forward_calls(model):
    calls = []
    model.register_forward_hook(lambda module, inputs, output: calls.append(len(inputs[0])))
    return calls


def test_full_batch_is_one_step_per_epoch_and_minibatches_are_many():
    X, y = line_data(100)
    full, mini = fresh(LinearNet, (1,), 1), fresh(LinearNet, (1,), 1)
    full_calls, mini_calls = count_forward_calls(full), count_forward_calls(mini)
    h_full = train(full, X, y, optimizer="sgd", lr=0.05, epochs=5, batch_size=None)
    h_mini = train(mini, X, y, optimizer="sgd", lr=0.05, epochs=5, batch_size=32)
    assert full_calls == [100] * 5
    assert mini_calls == [32, 32, 32, 4] * 5
    # more steps per epoch: further along after the same number of epochs
    assert h_mini["loss"][-1] < h_full["loss"][-1]


def test_a_batch_larger_than_the_data_is_the_full_batch():
    X, y = line_data(50)
    a, b = fresh(LinearNet, (1,), 1), fresh(LinearNet, (1,), 1)
    assert train(a, X, y, epochs=3, batch_size=1000) == train(b, X, y, epochs=3, batch_size=None)


def test_forgetting_zero_grad_lets_gradients_pile_up():
    """With lr = 0 nothing moves, so after k steps without zero_grad the gradient is exactly k·g."""
    X, y = line_data()
    model = fresh(LinearNet, (1,), 1)
    nn.functional.mse_loss(model(X), y).backward()
    g = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    train(model, X, y, optimizer="sgd", lr=0.0, epochs=3, zero_grad=False)
    for p, gp in zip(model.parameters(), g):
        torch.testing.assert_close(p.grad, 3 * gp)


def test_zero_grad_leaves_no_gradient_behind():
    X, y = line_data()
    model = fresh(LinearNet, (1,), 1)
    train(model, X, y, optimizer="sgd", lr=0.1, epochs=3)
    assert all(p.grad is None for p in model.parameters())


def test_forgetting_zero_grad_trains_worse():
    X, y = line_data()
    good = train(fresh(LinearNet, (1,), 1), X, y, optimizer="sgd", lr=0.05, epochs=100, batch_size=20)
    bad = train(fresh(LinearNet, (1,), 1), X, y, optimizer="sgd", lr=0.05, epochs=100, batch_size=20,
                zero_grad=False)
    assert bad["loss"] != good["loss"]
    assert bad["loss"][-1] > 10 * good["loss"][-1]


def test_same_seed_same_history():
    X, y = blob_data()
    runs = [train(fresh(MLP, (2,), 3, hidden=(16,)), X, y, loss="cross_entropy", epochs=20,
                  batch_size=16, seed=7) for _ in range(2)]
    assert runs[0] == runs[1]
    other = train(fresh(MLP, (2,), 3, hidden=(16,)), X, y, loss="cross_entropy", epochs=20,
                  batch_size=16, seed=8)
    assert other["loss"] != runs[0]["loss"]  # the seed drives the minibatch order


def test_training_does_not_touch_the_global_random_state():
    X, y = blob_data()
    model = fresh(MLP, (2,), 3, hidden=(8,))
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(model, X, y, loss="cross_entropy", epochs=3, batch_size=16)
    torch.testing.assert_close(torch.rand(3), expected)


def test_sgd_and_adam_are_different_optimizers():
    X, y = line_data()
    sgd = train(fresh(LinearNet, (1,), 1), X, y, optimizer="sgd", lr=0.01, epochs=10)
    adam = train(fresh(LinearNet, (1,), 1), X, y, optimizer="adam", lr=0.01, epochs=10)
    assert sgd["loss"][0] == adam["loss"][0]  # same start
    assert sgd["loss"][1:] != adam["loss"][1:]


def test_weight_decay_shrinks_the_weights():
    X, y = line_data()
    plain, decayed = fresh(LinearNet, (1,), 1), fresh(LinearNet, (1,), 1)
    train(plain, X, y, optimizer="sgd", lr=0.1, epochs=200)
    train(decayed, X, y, optimizer="sgd", lr=0.1, epochs=200, weight_decay=0.5)
    assert abs(decayed.linear.weight.item()) < abs(plain.linear.weight.item()) - 0.1


def test_callback_is_called_once_per_epoch_with_the_history_so_far():
    X, y = line_data()
    model = fresh(LinearNet, (1,), 1)
    seen = []

    def callback(epoch, history, m):
        assert m is model
        seen.append((epoch, len(history["loss"])))
    train(model, X, y, epochs=7, callback=callback)
    assert seen == [(e, e + 1) for e in range(7)]


def test_evaluate_is_recorded_every_epoch_in_eval_mode_without_gradients():
    X, y = line_data()
    model = nn.Sequential(nn.Linear(1, 8), nn.Dropout(0.5), nn.Linear(8, 1))
    modes = []

    def evaluate(m):
        modes.append((m.training, torch.is_grad_enabled()))
        with torch.no_grad():
            return {"val_mse": nn.functional.mse_loss(m(X), y).item(), "epoch_marker": len(modes)}
    history = train(model, X, y, epochs=5, evaluate=evaluate)
    assert history["epoch_marker"] == [1, 2, 3, 4, 5]
    assert len(history["val_mse"]) == 5
    assert modes == [(False, False)] * 5
    assert not model.training  # the model is handed back in eval mode


def test_transform_is_applied_to_each_batch():
    X, y = line_data(40)
    raw = (X * 100).to(torch.int16)  # a stand-in for pixels stored compactly
    seen = []

    def transform(xb):
        seen.append(xb.dtype)
        return xb.float() / 100
    model = fresh(LinearNet, (1,), 1)
    history = train(model, raw, y, epochs=2, batch_size=16, transform=transform)
    assert seen == [torch.int16] * 6
    assert all(math.isfinite(v) for v in history["loss"])
    assert raw.dtype == torch.int16  # the stored data is not converted in place


def test_onecycle_schedule_is_an_option_of_the_same_loop():
    X, y = line_data()
    history = train(fresh(LinearNet, (1,), 1), X, y, optimizer="sgd", lr=0.2, epochs=50, batch_size=25,
                    schedule="onecycle")
    assert history["loss"][-1] < history["loss"][0] / 10
    with pytest.raises(ValueError, match="onecycle"):
        train(fresh(LinearNet, (1,), 1), X, y, schedule="cosine")


def test_zero_epochs_changes_nothing_and_negative_epochs_are_refused():
    X, y = line_data()
    model = fresh(LinearNet, (1,), 1)
    before = [p.clone() for p in model.parameters()]
    assert train(model, X, y, epochs=0) == {"loss": []}
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    with pytest.raises(ValueError, match="epochs"):
        train(model, X, y, epochs=-1)
    with pytest.raises(ValueError, match="batch_size"):
        train(model, X, y, batch_size=0)


def test_autocast_bf16_still_learns_on_cpu():
    X, y = blob_data()
    model = fresh(LinearNet, (2,), 3)
    history = train(model, X, y, loss="cross_entropy", lr=0.05, epochs=60, autocast=True)
    assert history["loss"][-1] < history["loss"][0] / 5


def test_auto_device_is_cuda_then_mps_then_cpu():
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device("auto").type == expected
    assert pick_device("cpu") == torch.device("cpu")
    assert device_available(torch.device("cpu"))
    assert device_available(torch.device("cuda")) == torch.cuda.is_available()


def test_bf16_autocast_is_used_only_where_the_hardware_has_it():
    from ladder.devices import bf16_supported

    assert bf16_supported(torch.device("cuda")) is True
    assert bf16_supported(torch.device("mps")) is False
    assert bf16_supported(torch.device("cpu")) == bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def test_a_loss_that_explodes_stops_training_at_that_epoch_with_a_hint():
    from ladder.data import load
    from ladder.estimators import TorchClassifier
    from ladder.train import Diverged

    circles = load("circles", n=400)
    model = TorchClassifier(module="mlp", hidden=(16, 16), epochs=50, lr=1e6, random_state=0)
    with pytest.raises(Diverged, match="lower learning rate") as stop:
        model.fit(circles.X_train, circles.y_train)
    assert stop.value.epoch < 5
    assert len(model.history_["loss"]) == stop.value.epoch + 1  # what was learned before it broke


def test_leaving_out_zero_grad_is_a_bad_loop_not_a_divergence():
    from ladder.data import load
    from ladder.estimators import TorchRegressor

    line = load("line")
    model = TorchRegressor(module="linear", epochs=200, optimizer="sgd", lr=0.01, zero_grad=False,
                           random_state=0).fit(line.X_train, line.y_train)
    assert len(model.history_["loss"]) == 200


def test_a_perfect_fit_wobbling_near_zero_is_not_a_divergence():
    import numpy as np

    from ladder.estimators import TorchRegressor

    X, y = np.array([[0.5, -1.0]]), np.array([2.0])  # one sample: the loss can reach ~0
    model = TorchRegressor(module="mlp", hidden=(8,), epochs=100, lr=0.01, random_state=0).fit(X, y)
    assert len(model.history_["loss"]) == 100


def test_take_gathers_the_same_rows_as_indexing_for_index_tensors_and_slices():
    X = torch.randint(0, 256, (50, 7), dtype=torch.uint8)
    y = torch.arange(50)
    idx = torch.randperm(50, generator=torch.Generator().manual_seed(0))[:13]
    assert torch.equal(take(X, idx), X[idx]) and torch.equal(take(y, idx), y[idx])
    assert torch.equal(take(X, slice(10, 20)), X[10:20])
    assert torch.equal(take(X, slice(None)), X)


class _RecordsMode(nn.Module):
    """A linear layer that notes whether it was in training mode at each forward pass."""

    def __init__(self):
        super().__init__()
        self.linear, self.modes = nn.Linear(1, 1), []

    def forward(self, x):
        if torch.is_grad_enabled():
            self.modes.append(self.training)
        return self.linear(x)


def test_every_training_step_runs_in_train_mode_even_after_evaluate_or_a_callback_switched_it():
    X, y = line_data()
    model = _RecordsMode().eval()  # handed over in eval mode, as after a prediction
    train(model, X, y, epochs=4, batch_size=10, evaluate=lambda m: {},
          callback=lambda epoch, history, m: m.eval())
    assert len(model.modes) == 4 * 10 and all(model.modes)


def test_mixed_precision_computes_in_bf16_only_where_asked_and_the_hardware_has_it():
    from ladder.devices import bf16_supported

    cpu = torch.device("cpu")
    a = torch.randn(4, 4)
    with mixed_precision(cpu, autocast=False):
        assert (a @ a).dtype == torch.float32
    with mixed_precision(cpu, autocast=True):
        assert (a @ a).dtype == (torch.bfloat16 if bf16_supported(cpu) else torch.float32)


def test_l1_in_the_loop_moves_each_weight_by_lr_times_l1_against_its_sign_and_no_bias():
    X, y = torch.randn(32, 2, generator=torch.Generator().manual_seed(0)), torch.zeros(32, 1)
    nets = []
    for l1 in (0.0, 0.5):
        with seeded(0):
            nets.append(MLP((2,), 1, hidden=(3,)))
        train(nets[-1], X, y, loss="mse", optimizer="sgd", lr=0.1, epochs=1, l1=l1)  # one full batch
    with seeded(0):
        start = MLP((2,), 1, hidden=(3,))
    for (name, plain), penalised, before in zip(nets[0].named_parameters(), nets[1].parameters(), start.parameters()):
        expected = -0.1 * 0.5 * before.sign() if plain.dim() > 1 else torch.zeros_like(plain)
        torch.testing.assert_close(penalised - plain, expected.detach(), msg=name)
