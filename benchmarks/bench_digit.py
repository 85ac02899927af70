"""Inside the CNN (issue 36): how long a drawn digit waits for its predictions and every layer.

Starts `ladder play --no-browser` as its own process and drives it with real WebSocket clients:
4 sessions drawing at once, each sending a stroke that grows one segment at a time and moving it
with the sliders (shift and turn), one question in flight per session as the page does, and
waiting for the "digit" reply (three predictions and all eight layers of the CNN). Then the same
for one pixel's dot product ("conv"). Prints the median and the 95th percentile (target: ≤ 100 ms
at the 95th with 4 sessions on the 2-core machine); not a test.

    LADDER_DATA_DIR=../shared/data .venv/bin/python benchmarks/bench_digit.py [--sessions 4] [--asks 100] [--models DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import websockets

from bench_play import free_port, until


def strokes(n: int, seed: int) -> list[str]:
    """n drawings of one stroke growing downwards, as the page sends them while the pen moves."""
    rng = np.random.default_rng(seed)
    ink, drawings = np.zeros((112, 112), np.uint8), []
    col = int(rng.integers(40, 70))
    for i in range(n):
        row = 15 + (i * 3) % 80
        ink[row:row + 4, col:col + 10] = 255
        drawings.append(base64.b64encode(ink.tobytes()).decode())
    return drawings


async def drawing_session(url: str, asks: int, seed: int, kind: str) -> list[float]:
    """Milliseconds from sending each question to its reply, one in flight at a time."""
    rng = np.random.default_rng(seed)
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "digits"}))
        while not (await until(ws, "digits"))["ready"]:
            pass
        times = []
        for pixels in strokes(asks, seed):
            move = {"dx": int(rng.integers(-4, 5)), "dy": int(rng.integers(-4, 5)), "degrees": int(rng.integers(-30, 31))}
            message = {"type": kind, "pixels": pixels, "move": move}
            if kind == "conv":
                message.update(layer="conv2", map=int(rng.integers(32)), row=int(rng.integers(14)), col=int(rng.integers(14)))
            start = time.perf_counter()
            await ws.send(json.dumps(message))
            await until(ws, kind)
            times.append((time.perf_counter() - start) * 1000)
        return times


def p95(times: list[float]) -> float:
    return float(np.percentile(times, 95))


async def main(args, url: str) -> None:
    await drawing_session(url, 5, 99, "digit")  # warm: the first call builds the models' kernels
    for kind, what in (("digit", "predictions and every layer"), ("conv", "one pixel's dot product")):
        for n in (1, args.sessions):
            runs = await asyncio.gather(*(drawing_session(url, args.asks, seed, kind) for seed in range(n)))
            times = [t for run in runs for t in run]
            print(f"{what}, {n} session(s) drawing at once: median {statistics.median(times):.1f} ms, "
                  f"95th percentile {p95(times):.1f} ms, slowest {max(times):.1f} ms over {len(times)} asks "
                  f"(target ≤ 100 ms at the 95th: {100 / p95(times):.1f}× under)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--asks", type=int, default=100, help="questions each session asks")
    parser.add_argument("--models", type=Path, help="a run folder with MNIST models (else trained briefly here)")
    args = parser.parse_args()
    models = args.models
    if models is None:
        from ladder.play.digits import train_and_cache

        models = Path(tempfile.mkdtemp(prefix="bench-digit-"))
        train_and_cache(models, n_train=6000, epochs=1)  # latency does not depend on accuracy
    port = free_port()
    ladder = Path(sys.executable).with_name("ladder")
    server = subprocess.Popen([str(ladder), "play", "--no-browser", "--port", str(port), "--models", str(models)])
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                assert server.poll() is None, "ladder play did not start"
                time.sleep(0.1)
        asyncio.run(main(args, f"ws://127.0.0.1:{port}/ws"))
    finally:
        server.terminate()
        server.wait()
