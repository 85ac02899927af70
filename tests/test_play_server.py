"""The playground's WebSocket protocol, driven by a real WebSocket client (Starlette's TestClient)."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from ladder.models import LinearNet, MLP, SimpleCNN
from ladder.play.digit_service import DigitService
from ladder.play.digits import Digits
from ladder.play.server import DRAW_SIDE, Connection, create_app


#: A bound for waits on the digit service, so that a regression fails instead of hanging CI;
#: far beyond what loading or a short training takes even on a busy machine.
GENEROUS = 600


def told(service: DigitService) -> dict:
    """What `service` tells a page that subscribes, once it is past progress: the models or an error."""
    async def listen() -> dict:
        messages: asyncio.Queue = asyncio.Queue()
        service.subscribe(lambda text: messages.put_nowait(json.loads(text)))
        while (message := await messages.get()).get("ready") is False:
            pass
        return message
    return asyncio.run(asyncio.wait_for(listen(), GENEROUS))


def untrained_digits() -> DigitService:
    """A digit service whose models are ready (untrained): the protocol does not care how good they are."""
    service = DigitService()
    service.digits = Digits({"linear": LinearNet((784,), 10), "mlp": MLP((784,), 10, hidden=(16,)),
                             "cnn": SimpleCNN()})
    return service


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(digits=untrained_digits(), max_sessions=2)) as client:
        yield client


def receive(ws, kind: str) -> dict:
    """The next message of type `kind`, skipping others (frames arrive whenever a state is new)."""
    while True:
        message = ws.receive_json()
        if message["type"] == kind:
            return message


def grid(message: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(message["b64"]), dtype=np.uint8).reshape(message["shape"])


def test_a_new_session_gets_hello_then_its_data_then_a_frame(client):
    with client.websocket_connect("/ws") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello" and hello["settings"]["dataset"] == "circles"
        assert "x1sq" in hello["features"] and hello["limits"]["max_layers"] == 6
        data = ws.receive_json()
        assert data["type"] == "data" and len(data["train"]) + len(data["test"]) == 400
        frame = ws.receive_json()
        assert frame["type"] == "frame" and frame["epoch"] == 0
        assert grid(frame["boundary"]).shape == (100, 100)


def test_step_trains_one_epoch_and_play_keeps_training_until_pause(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "step"})
        assert receive(ws, "frame")["epoch"] == 0
        assert receive(ws, "frame")["epoch"] == 1
        ws.send_json({"type": "play"})
        states = [(1, 0.0)]
        while states[-1][0] < 4:  # a frame may show a piece of an epoch: its progress says how far
            frame = receive(ws, "frame")
            states.append((frame["epoch"], frame["progress"]))
        assert states == sorted(states)
        ws.send_json({"type": "pause"})
        while (frame := receive(ws, "frame"))["playing"]:
            pass
        paused = (frame["epoch"], frame["progress"])
        ws.send_json({"type": "set", "settings": {"lr": 0.03}})  # answered by a frame of the state now
        frame = receive(ws, "frame")
        assert (frame["epoch"], frame["progress"]) == paused  # nothing trained after the pause


def test_play_straight_after_pause_keeps_training(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "play"})
        while receive(ws, "frame")["epoch"] < 2:
            pass
        ws.send_json({"type": "pause"})
        ws.send_json({"type": "play"})
        while receive(ws, "frame")["epoch"] < 5:
            pass


def test_settings_change_the_data_and_reply_with_it(client):
    with client.websocket_connect("/ws") as ws:
        receive(ws, "frame")  # the session's first data and frame
        ws.send_json({"type": "set", "settings": {"dataset": "xor", "points": 100}})
        data = receive(ws, "data")
        assert len(data["train"]) + len(data["test"]) == 100


@pytest.mark.parametrize("send, words", [
    (lambda ws: ws.send_text("{not json"), "not JSON"),
    (lambda ws: ws.send_text("[" * 100_000 + "]" * 100_000), "not JSON"),
    (lambda ws: ws.send_text("x" * 2_000_001), "message too large"),
    (lambda ws: ws.send_bytes(b"\x00\x01"), "JSON text, not binary"),
    (lambda ws: ws.send_json(["play"]), "JSON object with a \"type\""),
    (lambda ws: ws.send_json({"type": "rm -rf"}), "unknown message type"),
    (lambda ws: ws.send_json({"type": "set", "settings": {"hidden": [10**9]}}), "between 1 and 64"),
    (lambda ws: ws.send_json({"type": "csv", "text": "a,b,c\n1,2,x\n3,4,y\n"}), "csv: not numeric"),
    (lambda ws: ws.send_json({"type": "digit", "pixels": "AAAA"}), "pixels must be 112×112"),
])
def test_a_bad_message_gets_an_error_and_the_session_goes_on(client, send, words):
    with client.websocket_connect("/ws") as ws:
        send(ws)
        assert words in receive(ws, "error")["message"]
        ws.send_json({"type": "step"})
        while receive(ws, "frame")["epoch"] != 1:
            pass


def test_one_sessions_bad_messages_leave_another_session_alone(client):
    with client.websocket_connect("/ws") as good, client.websocket_connect("/ws") as bad:
        bad.send_text("{")
        receive(bad, "error")
        good.send_json({"type": "step"})
        while receive(good, "frame")["epoch"] != 1:
            pass


def test_past_the_most_sessions_a_newcomer_is_told_busy_and_a_disconnect_frees_a_place(client):
    app = client.app
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        receive(a, "frame"), receive(b, "frame")
        with client.websocket_connect("/ws") as c:
            assert "busy" in receive(c, "busy")["message"]
        assert len(app.state.connections) == 2
    with client.websocket_connect("/ws") as d:
        assert receive(d, "frame")["epoch"] == 0
    assert not app.state.connections


def test_a_drawing_gets_three_predictions_and_the_cnn_feature_maps(client):
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "digits"})
        ready = receive(ws, "digits")
        assert ready["ready"] and grid(ready["templates"]).shape == (10, 28, 28)
        ink = np.zeros((DRAW_SIDE, DRAW_SIDE), np.uint8)
        ink[10:100, 50:60] = 255
        ws.send_json({"type": "digit", "pixels": base64.b64encode(ink.tobytes()).decode()})
        digit = receive(ws, "digit")
        assert set(digit["probabilities"]) == {"linear", "mlp", "cnn"}
        assert all(abs(sum(p) - 1) < 1e-4 for p in digit["probabilities"].values())
        assert grid(digit["input"]).shape == (28, 28) and grid(digit["feature_maps"]).shape == (16, 28, 28)


def test_the_page_and_its_files_are_served_with_a_policy_that_fetches_nothing_else(client):
    response = client.get("/")
    assert response.status_code == 200 and "default-src 'self'" in response.headers["content-security-policy"]
    assert client.get("/static/play.js").status_code == 200


def test_the_latest_frame_wins_when_the_client_is_slow():
    """Frames made while a send is pending replace each other; replies are all kept, in order."""
    sent = []

    class SlowSocket:
        async def send_text(self, text):
            sent.append(text)

    async def scenario():
        connection = Connection(SlowSocket(), session=None, app_state=None)
        for epoch in range(5):
            connection.show(json.dumps({"epoch": epoch}))
        connection.push("reply 1")
        connection.push("reply 2")
        sender = asyncio.create_task(connection._send())
        while len(sent) < 3:
            await asyncio.sleep(0)
        sender.cancel()
    asyncio.run(scenario())
    assert sent == ["reply 1", "reply 2", json.dumps({"epoch": 4})]


def kill_worker_of(app) -> None:
    (connection,) = app.state.connections
    connection.session.worker.process.kill()


@pytest.mark.parametrize("playing", [False, True])
def test_a_session_whose_worker_dies_is_told_so_and_the_server_goes_on(client, playing):
    with client.websocket_connect("/ws") as ws:
        receive(ws, "frame")
        if playing:
            ws.send_json({"type": "play"})
            receive(ws, "frame")
        kill_worker_of(client.app)
        if not playing:
            ws.send_json({"type": "step"})
        assert "worker process stopped" in receive(ws, "error")["message"]
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
        assert closed.value.code == 1011
    assert not client.app.state.connections
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "step"})
        while receive(ws, "frame")["epoch"] != 1:
            pass


def test_new_sessions_go_to_the_worker_that_holds_the_fewest():
    with TestClient(create_app(digits=untrained_digits(), workers=2)) as client:
        with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
            receive(a, "frame"), receive(b, "frame")
            assert sorted(c.session.index for c in client.app.state.connections) == [0, 1]
            with client.websocket_connect("/ws") as c:
                receive(c, "frame")
                assert client.app.state.workers.sessions == [2, 1]
        assert client.app.state.workers.sessions == [0, 0]


def test_without_mnist_the_digit_tab_is_told_how_to_get_it_and_nothing_is_cached(tmp_path, monkeypatch):
    """The page draws 28×28 digits: the 8×8 stand-in a run falls back on must not be trained
    (it left models of the wrong size in the cache under MNIST's name, and the page waited)."""
    import socket

    from ladder.data import mnist_files

    with socket.socket() as probe:  # a port nothing listens on: the download is refused at once
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/mnist/"
    monkeypatch.setenv("LADDER_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.delenv("LADDER_MNIST_MIRRORS", raising=False)
    monkeypatch.setattr(mnist_files, "MIRRORS", [dead])
    monkeypatch.setattr(mnist_files, "cache_dir", lambda: tmp_path / "data-cache")
    cache = tmp_path / "play-digits"
    service = DigitService(cache=cache, n_train=600, epochs=1)

    message = told(service)
    assert message["type"] == "error", message  # never models
    assert "MNIST was not found" in message["message"] and "ladder data fetch mnist" in message["message"]
    assert not cache.exists() or list(cache.iterdir()) == []


def test_models_that_do_not_read_28x28_images_are_refused_and_the_page_is_told(monkeypatch):
    small = {"linear": LinearNet((64,), 10), "mlp": MLP((64,), 10, hidden=(16,)), "cnn": SimpleCNN((8, 8))}
    with pytest.raises(ValueError, match="do not read 28×28 MNIST images"):
        Digits(small)
    monkeypatch.setattr("ladder.play.digit_service.read_folder", lambda folder: small)
    service = DigitService(models_dir=Path("a-run"))

    message = told(service)  # before: the thread raised after loading, and nobody was told
    assert message["type"] == "error" and "do not read 28×28" in message["message"]


def test_a_cache_an_older_ladder_left_with_8x8_models_is_trained_again(tmp_path, caplog):
    """Older versions trained the digit models on the 8×8 stand-in and cached them under MNIST's
    name; such a cache is replaced, not read (it raised a size mismatch at every start)."""
    from safetensors.torch import save_file

    from ladder.play.digits import read_folder

    cache = tmp_path / "play-digits"
    cache.mkdir()
    for name, module in {"logreg-torch": LinearNet((64,), 10), "mlp": MLP((64,), 10, hidden=(128,)),
                         "cnn": SimpleCNN((8, 8))}.items():
        metadata = {"module": type(module).__name__, "n_features": "784", "classes": json.dumps(list(range(10))),
                    "model": json.dumps({"kind": "cnn" if name == "cnn" else "mlp"})}
        save_file(module.state_dict(), str(cache / f"mnist--{name}.safetensors"), metadata=metadata)
    with pytest.raises(ValueError, match="do not fit a 28×28 MNIST model"):
        read_folder(cache)

    service = DigitService(cache=cache, n_train=600, epochs=1)  # needs MNIST (LADDER_DATA_DIR)

    message = told(service)
    assert message["type"] == "digits", message
    assert len(read_folder(cache)) == 3  # the cache now holds 28×28 models
    assert "do not load" in caplog.text and "training them again" in caplog.text


def test_a_cache_trained_otherwise_than_mnist_toml_says_now_is_trained_again(tmp_path, caplog, monkeypatch):
    """A cache is read while mnist.toml trains its models as they were trained (so a second start
    does not train), and replaced once it does not: part 4's CNN recipe changed, and a cache from
    before kept the old CNN for ever."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from ladder.play import digit_service
    from ladder.play.digits import cache_is_current, train_and_cache

    cache = tmp_path / "play-digits"
    train_and_cache(cache, n_train=600, epochs=1)  # needs MNIST (LADDER_DATA_DIR)
    assert cache_is_current(cache, n_train=600, epochs=1)
    assert not cache_is_current(cache, n_train=600, epochs=2) and not cache_is_current(cache)

    def no_training(*args, **kwargs):
        raise AssertionError("a current cache was trained again")
    with monkeypatch.context() as patched:
        patched.setattr(digit_service, "train_and_cache", no_training)
        assert told(DigitService(cache=cache, n_train=600, epochs=1))["type"] == "digits"

    cnn = cache / "mnist--cnn.safetensors"  # as an older ladder wrote it: no record of its training
    with safe_open(str(cnn), framework="pt") as f:
        metadata = {k: v for k, v in f.metadata().items() if k != "trained"}
    save_file(load_file(str(cnn)), str(cnn), metadata=metadata)
    assert not cache_is_current(cache, n_train=600, epochs=1)

    message = told(DigitService(cache=cache, n_train=600, epochs=1))
    assert message["type"] == "digits", message
    assert "trained with other settings than mnist.toml's" in caplog.text and "training them again" in caplog.text
    assert cache_is_current(cache, n_train=600, epochs=1)


def test_four_classes_over_the_socket_send_each_cells_class_and_a_confusion_matrix(client):
    with client.websocket_connect("/ws") as ws:
        receive(ws, "frame")
        ws.send_json({"type": "set", "settings": {"dataset": "blobs", "classes": 4}})
        data = receive(ws, "data")
        assert data["classes"] == 4 and data["labels"] == ["0", "1", "2", "3"]
        ws.send_json({"type": "step"})
        while (frame := receive(ws, "frame"))["epoch"] < 1:
            pass
        assert grid(frame["predicted"]).shape == (100, 100) and grid(frame["predicted"]).max() <= 3
        assert np.array(frame["confusion"]).shape == (4, 4) and np.sum(frame["confusion"]) == len(data["test"])
        assert len(frame["class_accuracy"]) == 4
        ws.send_json({"type": "set", "settings": {"classes": 11}})
        assert "classes must be between 2 and 10" in receive(ws, "error")["message"]
        ws.send_json({"type": "step"})  # the session goes on
        assert receive(ws, "frame")["epoch"] >= 1
