"""The network the page draws: its weights and biases in every frame, and one set by hand while paused."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ladder.play.protocol import encode
from ladder.play.session import EXPLODES, MAX_WEIGHT, WEIGHTS_PER_FRAME, PlayError, Session, significant
from test_play_process import play, run, session, until  # noqa: F401 - the real server and clients of those tests


def parameters(session: Session) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in session.net.parameters()]


def test_a_frame_carries_every_layers_weights_rows_to_columns_from_and_biases():
    session = Session(features=["x1", "x2", "x1x2"], hidden=[4, 2])
    frame = session.frame()
    # Three inputs → 4 → 2 → 1 output: PyTorch's (out, in) layout, one row per unit fed.
    assert [np.shape(w) for w in frame["weights"]] == [(4, 3), (2, 4), (1, 2)]
    assert [len(b) for b in frame["biases"]] == [4, 2, 1]
    first = session.net.layers[0]
    np.testing.assert_allclose(frame["weights"][0], first.weight.detach().numpy(), rtol=5e-3)
    np.testing.assert_allclose(frame["biases"][0], first.bias.detach().numpy(), rtol=5e-3)


def test_four_classes_have_four_output_units_and_no_hidden_layer_is_one_layer_of_weights():
    frame = Session(dataset="blobs", classes=4, hidden=[]).frame()
    assert np.shape(frame["weights"]) == (1, 4, 2) and np.shape(frame["biases"]) == (1, 4)


def test_weights_travel_with_three_significant_digits():
    assert significant(np.array([0.123456, -12.3456, 0.000123456, 0.0, 98.76])).tolist() == \
        [0.123, -12.3, 0.000123, 0.0, 98.8]
    weights = json.loads(encode(Session(hidden=[8, 8]).frame()))["weights"]
    values = [w for layer in weights for row in layer for w in row]
    assert len(values) == 2 * 8 + 8 * 8 + 8 and all(float(f"{w:.3g}") == w for w in values)
    # about 7 characters a weight ("-0.0529,"); unrounded float32 took 20 ("-0.0529000014...")
    assert len(json.dumps(weights, separators=(",", ":"))) < 8 * len(values)


def test_a_large_networks_playing_frames_carry_the_weights_every_nth_and_every_other_frame_does():
    everything = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"]
    session = Session(dataset="blobs", classes=10, features=everything, hidden=[64] * 6)
    assert sum(np.size(w) for w in session.frame()["weights"]) == 7 * 64 + 5 * 64 * 64 + 64 * 10  # 21,568
    every = math.ceil(21568 / WEIGHTS_PER_FRAME)
    session.apply({"type": "play"})  # the paused frame above carried them: now every n-th one does
    assert ["weights" in session.frame() for _ in range(2 * every)] == [n % every == 0 for n in range(1, 2 * every + 1)]
    session.apply({"type": "set", "settings": {"hidden": [64] * 5}})  # a new network: its weights at once
    assert "weights" in session.frame() and "weights" not in session.frame()
    session.apply({"type": "pause"})
    assert all("weights" in session.frame() for _ in range(3))

    small = Session(hidden=[8, 8])
    small.apply({"type": "play"})
    assert all("weights" in small.frame() and "biases" in small.frame() for _ in range(5))


def test_a_weight_set_by_hand_changes_that_weight_alone_and_the_next_frames_boundary():
    session = Session(dataset="circles", hidden=[4, 2])
    session.step()
    before, boundary = parameters(session), session.frame()["boundary"]
    assert session.apply({"type": "weight", "layer": 2, "to": 1, "from": 3, "value": 5.5}) == []
    after = parameters(session)
    changed = [(i, tuple(np.argwhere(a != b)[0])) for i, (a, b) in enumerate(zip(before, after)) if (a != b).any()]
    assert changed == [(2, (1, 3))]  # parameters: w1, b1, w2, b2, w3, b3; w2[to=1, from=3]
    assert session.net.layers[2].weight[1, 3].item() == 5.5
    frame = session.frame()
    assert frame["weights"][1][1][3] == 5.5
    assert not np.array_equal(frame["boundary"], boundary)
    assert frame["epoch"] == 1  # the network changed; the training did not move on


def test_a_bias_set_by_hand_is_from_null_and_the_losses_are_measured_again():
    session = Session(dataset="circles", hidden=[3])
    before = parameters(session)
    loss = session.loss_test
    session.apply({"type": "weight", "layer": 2, "to": 0, "from": None, "value": -40})
    after = parameters(session)
    assert [i for i, (a, b) in enumerate(zip(before, after)) if (a != b).any()] == [3]  # the output's bias
    assert session.net.layers[2].bias[0].item() == -40
    assert session.frame()["biases"][1] == [-40.0]
    assert session.loss_test != loss and session.frame()["loss_test"] == session.loss_test


def test_training_goes_on_from_a_hand_set_weight_and_a_raised_loss_is_not_called_divergence():
    session = Session(dataset="circles", hidden=[4])
    untrained = session.loss_train
    session.apply({"type": "weight", "layer": 2, "to": 0, "from": None, "value": 30})  # every point one class
    raised = session.loss_train
    assert raised > EXPLODES * untrained  # what an epoch's end would have called an explosion
    for _ in range(3):
        session.step()
    assert session.diverged is None and session.loss_train < raised


def test_the_same_hand_set_weight_gives_the_same_numbers():
    def run():
        session = Session(dataset="xor", hidden=[4])
        session.step()
        session.apply({"type": "weight", "layer": 1, "to": 2, "from": 0, "value": -3.25})
        session.step()
        return session.loss_test, session.frame()["boundary"]
    (a, boundary_a), (b, boundary_b) = run(), run()
    assert a == b and np.array_equal(boundary_a, boundary_b)


def test_a_weight_is_refused_while_playing_and_the_network_left_as_it_was():
    session = Session(hidden=[4, 2])
    session.apply({"type": "play"})
    before = parameters(session)
    with pytest.raises(PlayError, match="pause training first"):
        session.apply({"type": "weight", "layer": 1, "to": 0, "from": 0, "value": 1.0})
    assert all(np.array_equal(a, b) for a, b in zip(before, parameters(session))) and session.playing
    session.apply({"type": "pause"})
    session.apply({"type": "weight", "layer": 1, "to": 0, "from": 0, "value": 1.0})
    assert session.net.layers[0].weight[0, 0].item() == 1.0


@pytest.mark.parametrize("message, words", [
    ({"layer": 0, "to": 0, "from": 0, "value": 1}, "layer must be a whole number from 1 to 3"),
    ({"layer": 4, "to": 0, "from": 0, "value": 1}, "layer must be a whole number from 1 to 3"),
    ({"layer": "1", "to": 0, "from": 0, "value": 1}, "layer must be a whole number"),
    ({"to": 0, "from": 0, "value": 1}, "got None"),
    ({"layer": 1, "to": 4, "from": 0, "value": 1}, "to must be a unit of layer 1, from 0 to 3, got 4"),
    ({"layer": 1, "to": -1, "from": 0, "value": 1}, "to must be a unit of layer 1"),
    ({"layer": 1, "to": 1.5, "from": 0, "value": 1}, "to must be a unit of layer 1"),
    ({"layer": 1, "to": 0, "from": 2, "value": 1}, "from must be a unit of the column before layer 1, from 0 to 1"),
    ({"layer": 3, "to": 0, "from": True, "value": 1}, "or null for the bias"),
    ({"layer": 1, "to": 0, "from": 0, "value": math.nan}, "value must be a number between -100 and 100"),
    ({"layer": 1, "to": 0, "from": 0, "value": math.inf}, "value must be a number between -100 and 100"),
    ({"layer": 1, "to": 0, "from": 0, "value": 100.5}, "got 100.5"),
    ({"layer": 1, "to": 0, "from": 0, "value": "0.5"}, "value must be a number"),
    ({"layer": 1, "to": 0, "from": 0}, "value must be a number"),
])
def test_a_bad_weight_gets_one_clear_line_and_the_session_goes_on(message, words):
    session = Session(hidden=[4, 2])
    session.step()
    before = parameters(session)
    with pytest.raises(PlayError, match=words) as error:
        session.apply({"type": "weight", **message})
    assert "\n" not in str(error.value) and str(error.value).startswith("weight: ")
    assert all(np.array_equal(a, b) for a, b in zip(before, parameters(session)))
    session.step()
    assert session.epoch == 2


def test_the_limit_the_errors_name_is_itself_allowed():
    session = Session(hidden=[])
    session.apply({"type": "weight", "layer": 1, "to": 0, "from": 1, "value": -MAX_WEIGHT})
    assert session.net.layers[0].weight[0, 1].item() == -MAX_WEIGHT


# -- over the socket, as the page sends it: a real `ladder play` process -------------------------

def test_a_weight_sent_while_paused_is_answered_by_a_frame_drawn_from_it(play):
    async def scenario():
        ws = await session(play.url)
        await ws.send(json.dumps({"type": "step"}))
        before = await until(ws, "frame")
        await ws.send(json.dumps({"type": "weight", "layer": 1, "to": 3, "from": 1, "value": -7.5}))
        after = await until(ws, "frame")
        await ws.close()
        return before, after

    before, after = run(scenario())
    assert after["weights"][0][3][1] == -7.5 and before["weights"][0][3][1] != -7.5
    assert after["epoch"] == before["epoch"] == 1
    assert after["boundary"]["b64"] != before["boundary"]["b64"]
    assert after["biases"] == before["biases"]


def test_a_weight_sent_while_playing_is_refused_in_one_line_and_the_session_plays_on(play):
    async def scenario():
        ws = await session(play.url)
        await ws.send(json.dumps({"type": "play"}))
        await ws.send(json.dumps({"type": "weight", "layer": 1, "to": 0, "from": 0, "value": 1}))
        error = await until(ws, "error")
        while not (frame := await until(ws, "frame"))["epoch"] >= 2:
            pass
        await ws.close()
        return error["message"], frame

    message, frame = run(scenario())
    assert message == "weight: pause training first; a weight is set by hand only while paused"
    assert frame["playing"] and frame["weights"][0][0][0] != 1


def test_a_weight_out_of_range_gets_an_error_and_the_session_goes_on(play):
    async def scenario():
        ws = await session(play.url)
        await ws.send(json.dumps({"type": "weight", "layer": 9, "to": 0, "from": 0, "value": 1}))
        error = await until(ws, "error")
        await ws.send('{"type": "weight", "layer": 1, "to": 0, "from": 0, "value": NaN}')
        nan = await until(ws, "error")
        await ws.send(json.dumps({"type": "step"}))
        while (await until(ws, "frame"))["epoch"] < 1:
            pass
        await ws.close()
        return error["message"], nan["message"]

    assert run(scenario()) == ("weight: layer must be a whole number from 1 to 3 (1 joins the inputs to the next "
                               "column), got 9", "weight: value must be a number between -100 and 100, got nan")
