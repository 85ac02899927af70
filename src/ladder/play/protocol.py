"""Messages as JSON text: uint8 grids as base64, non-finite numbers as null; incoming text checked."""

from __future__ import annotations

import base64
import json
import math

import numpy as np


#: What a client may send: the session's own messages (each handled in order, in the session's
#: worker), then the comparison and the digit tab's.
SESSION_TYPES = ("set", "play", "pause", "step", "reset", "csv", "export")
#: A weight or bias set by hand in the drawn network: handled in order, like the session's own.
NETWORK_TYPES = ("weight",)
CLIENT_TYPES = (*SESSION_TYPES, "compare", "digits", "digit", "conv", *NETWORK_TYPES)


class MessageError(ValueError):
    """An incoming message that is not a JSON object of the expected shape."""


def _plain(value):
    if isinstance(value, np.ndarray):
        return {"shape": list(value.shape), "b64": base64.b64encode(value.astype(np.uint8).tobytes()).decode()}
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def encode(message: dict) -> str:
    """A message with numpy uint8 grids as {"shape": [h, w], "b64": "…"} (row-major bytes)."""
    return json.dumps(_plain(message), allow_nan=False, separators=(",", ":"))


def decode(text, max_bytes: int) -> dict:
    """One client message: a JSON object with a string "type"; MessageError says what is wrong."""
    if not isinstance(text, str):
        raise MessageError("send messages as JSON text, not binary frames")
    if len(text) > max_bytes:
        raise MessageError(f"message too large: {len(text):,} characters, the limit is {max_bytes:,}")
    try:
        message = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise MessageError("not JSON: send one JSON object such as {\"type\": \"play\"}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise MessageError("send a JSON object with a \"type\", such as {\"type\": \"play\"}")
    return message


def grid(value, side: int) -> np.ndarray:
    """A base64 uint8 square image from the client (the digit drawing), checked for its size."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (TypeError, ValueError):
        raise MessageError("pixels must be base64 text") from None
    if len(raw) != side * side:
        raise MessageError(f"pixels must be {side}×{side} = {side * side} bytes, got {len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8).reshape(side, side)
