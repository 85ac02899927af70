"""The playground's WebSocket protocol, driven by a real WebSocket client (Starlette's TestClient)."""

from __future__ import annotations

import asyncio
import base64
import json

import numpy as np
import pytest
from starlette.testclient import TestClient

from ladder.models import LinearNet, MLP, SimpleCNN
from ladder.play.digit_service import DigitService
from ladder.play.digits import Digits
from ladder.play.server import DRAW_SIDE, Connection, create_app


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
        assert states == sorted(states) and len(set(states)) >= 4
        ws.send_json({"type": "pause"})
        while receive(ws, "frame")["playing"]:
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


def test_a_session_whose_worker_dies_is_told_so_and_the_server_goes_on(client):
    with client.websocket_connect("/ws") as ws:
        receive(ws, "frame")
        (connection,) = client.app.state.connections
        for process in connection.session.pool._processes.values():
            process.kill()
        ws.send_json({"type": "step"})
        assert "worker process stopped" in receive(ws, "error")["message"]
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "step"})
        while receive(ws, "frame")["epoch"] != 1:
            pass


def test_sessions_are_spread_over_the_worker_processes(client):
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        receive(a, "frame"), receive(b, "frame")
        indices = sorted(c.session.index for c in client.app.state.connections)
    workers = len(client.app.state.workers.pools)
    assert indices == ([0, 1] if workers > 1 else [0, 0])
