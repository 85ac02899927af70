"""Shared helpers: run the CLI in-process or as a real process, write small experiment files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

# No thread settings here: the suite runs under ladder's own compute budget (ladder.budget), as
# users do. A slowdown users would meet must show up in these tests too.

LADDER = Path(sys.executable).with_name("ladder")

#: A small, fast experiment (about a second): an sklearn rung and a minibatch PyTorch rung.
TINY = """
name = "tiny"
title = "a tiny ladder"
dataset = { name = "circles", n = 200, noise = 0.1, seed = 0, test_size = 0.25 }

[[rungs]]
name = "logreg"
model = { kind = "logistic", backend = "sklearn" }

[[rungs]]
name = "mlp"
model = { kind = "mlp", hidden = [8], activation = "tanh" }
train = { epochs = 30, optimizer = "adam", lr = 0.02, batch_size = 32 }

[[claims]]
text = "A straight line cannot separate two circles"
check = "logreg.test_accuracy < 0.8"
"""


@pytest.fixture
def tiny_toml(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture
def write_toml(tmp_path):
    """write_toml(text, name="spec.toml") → the path of a TOML file holding `text`."""
    def write(text: str, name: str = "spec.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path
    return write


@pytest.fixture(scope="session")
def cli_runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(cli_runner):
    """invoke(*args) runs `ladder *args` in this process and returns click's Result."""
    from ladder.cli import app

    def run(*args):
        return cli_runner.invoke(app, [str(a) for a in args])
    return run


def _command(args) -> list[str]:
    ladder = [str(LADDER)] if LADDER.exists() else [sys.executable, "-m", "ladder.cli"]
    return ladder + [str(a) for a in args]


def run_ladder(*args, cwd=None) -> subprocess.CompletedProcess:
    """`ladder *args` as a real process: its exit code and stderr are what a user sees.

    No timeout: a busy CI machine may be slow, and a hung run is stopped by CI's own limit.
    """
    return subprocess.run(_command(args), capture_output=True, text=True, cwd=cwd)


def start_ladder(*args, cwd=None) -> subprocess.Popen:
    """Start `ladder *args` as a real process, to run several side by side."""
    return subprocess.Popen(_command(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=cwd)


def read_results(out: Path) -> dict:
    return json.loads((Path(out) / "results.json").read_text(encoding="utf-8"))


def leftovers(out: Path) -> list[str]:
    """Files a run left in its --out folder (results.json, temporary files, probes)."""
    return sorted(p.name for p in Path(out).iterdir()) if Path(out).is_dir() else []


def temporary_files(out: Path) -> list[str]:
    """Hidden or .tmp files anywhere under `out`: what an interrupted atomic write would leave."""
    return sorted(str(p) for p in Path(out).rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp"))


def running(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def killed(code: str) -> str:
    """Run `code` in a fresh Python that prints a line starting with "@" and then waits; SIGKILL
    it once it has printed that, as the out-of-memory killer would; return the rest of the line."""
    child = holding(code)
    try:
        return wait_for_line(child)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()


def holding(code: str) -> subprocess.Popen:
    """A fresh Python running `code`, then waiting to be killed (`code` may hold locks meanwhile)."""
    return subprocess.Popen([sys.executable, "-c", code + "\nimport time; time.sleep(3600)"],
                            stdout=subprocess.PIPE, text=True)


def wait_for_line(child: subprocess.Popen) -> str:
    """What `child` printed after "@". No deadline: a child that ends early gives EOF, and fails."""
    while not (line := child.stdout.readline()).startswith("@") and line:
        pass
    assert line, "the child ended before it printed its line"
    return line[1:].strip()


@pytest.fixture(scope="session")
def part(tmp_path_factory, cli_runner):
    """part(name) → (CLI result, results.json) of `ladder run <name> --seeds 1 --out …`, run once."""
    from ladder.cli import app

    cache: dict[str, tuple] = {}

    def run(name: str):
        if name not in cache:
            out = tmp_path_factory.mktemp(f"part-{name}")
            result = cli_runner.invoke(app, ["run", name, "--seeds", "1", "--out", str(out)])
            assert result.exit_code == 0, (result.output, result.exception)
            cache[name] = (result, read_results(out))
        return cache[name]
    return run
