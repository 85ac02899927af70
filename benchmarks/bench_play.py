"""How `ladder play` holds up: frames per second per session, digit latency, memory after churn.

Starts `ladder play --no-browser` as its own process and drives it with real WebSocket clients
(the websockets library): 1 and then 8 sessions training at once, each counting the boundary
frames it receives (target ≥ 30 /s each with 8 on 2 cores); 50 digit predictions one after the
other (target ≤ 50 ms each); the memory of the server and its worker processes (PSS, so pages
the forked workers share count once) before and after 50 connect–train–disconnect cycles
(target: back near its baseline). Prints numbers and ratios; not a test.

    LADDER_DATA_DIR=../shared/data .venv/bin/python benchmarks/bench_play.py [--seconds 10] [--classes K] [--models DIR]
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Memory of the server and its worker processes (sessions train in those), as PSS: pages
    the forked workers share are counted once, not once per process."""
    total = 0.0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            total += int(line.split()[1]) / 1024
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        total += rss_mb(int(child))
    return total


async def until(ws, kind: str) -> dict:
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == kind:
            return message


async def training_session(url: str, seconds: float, classes: int | None = None) -> tuple[float, float]:
    """(boundary frames per second, epochs per second) of one playing session (on `classes` blobs if given)."""
    async with websockets.connect(url, max_size=None) as ws:
        await until(ws, "frame")
        if classes:
            await ws.send(json.dumps({"type": "set", "settings": {"dataset": "blobs", "classes": classes}}))
        await ws.send(json.dumps({"type": "play"}))
        frames, first, start = 0, None, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            message = json.loads(await ws.recv())
            if message["type"] == "frame" and message["playing"]:
                frames += 1
                first = message["epoch"] if first is None else first
                last = message["epoch"]
        await ws.send(json.dumps({"type": "pause"}))
        return frames / elapsed, (last - first) / elapsed


async def digit_latency(url: str, n: int = 50) -> list[float]:
    ink = np.zeros((112, 112), np.uint8)
    ink[15:95, 52:62] = 255
    pixels = base64.b64encode(ink.tobytes()).decode()
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "digits"}))
        while not (await until(ws, "digits"))["ready"]:
            pass
        times = []
        for _ in range(n):
            start = time.perf_counter()
            await ws.send(json.dumps({"type": "digit", "pixels": pixels}))
            await until(ws, "digit")
            times.append((time.perf_counter() - start) * 1000)
        return times


async def cycle(url: str) -> None:
    async with websockets.connect(url, max_size=None) as ws:
        await until(ws, "frame")
        await ws.send(json.dumps({"type": "set", "settings": {"hidden": [8, 8], "points": 1000}}))
        await ws.send(json.dumps({"type": "play"}))
        for _ in range(20):
            await until(ws, "frame")


async def main(args, url: str, pid: int) -> None:
    for n in (1, 8):
        rates = await asyncio.gather(*(training_session(url, args.seconds, args.classes) for _ in range(n)))
        frames = [r[0] for r in rates]
        print(f"{n} session(s): {min(frames):.1f} to {max(frames):.1f} boundary frames/s each "
              f"(target ≥ 30: {min(frames) / 30:.2f}×), {statistics.mean(r[1] for r in rates):.1f} epochs/s each")
    times = await digit_latency(url)
    print(f"digit prediction: median {statistics.median(times):.1f} ms, slowest {max(times):.1f} ms "
          f"(target ≤ 50 ms: {50 / statistics.median(times):.1f}× under)")
    await cycle(url)
    baseline = rss_mb(pid)
    for _ in range(50):
        await cycle(url)
    await asyncio.sleep(1)
    after = rss_mb(pid)
    print(f"memory (PSS, server and workers): {baseline:.0f} MB after one cycle, {after:.0f} MB after 50 more "
          f"connect–train–disconnect cycles ({after / baseline:.2f}×)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--classes", type=int, help="train on blobs of this many classes (2 to 10) instead of circles")
    parser.add_argument("--models", type=Path, help="a run folder with MNIST models (else trained briefly here)")
    args = parser.parse_args()
    models = args.models
    if models is None:
        from ladder.play.digits import train_and_cache

        models = Path(tempfile.mkdtemp(prefix="bench-play-"))
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
        asyncio.run(main(args, f"ws://127.0.0.1:{port}/ws", server.pid))
    finally:
        server.terminate()
        server.wait()
