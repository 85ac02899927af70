"""Temporary entries left by a process killed outright are removed by the next one, and only those."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from ladder.atomic import owned_prefix, remove_abandoned, write_atomic


def killed(code: str) -> str:
    """Run `code` in a fresh Python that prints a line starting with "@" and then waits; SIGKILL
    it once it has printed that, as the out-of-memory killer would; return the rest of the line."""
    child = subprocess.Popen([sys.executable, "-c", code + "\nimport time; time.sleep(3600)"],
                             stdout=subprocess.PIPE, text=True)
    try:
        while not (line := child.stdout.readline()).startswith("@") and line:
            pass
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert line, "the child ended before it printed its line"
    return line[1:].strip()


def test_a_killed_writer_leaves_its_file_and_the_next_write_removes_it(tmp_path):
    target = tmp_path / "results.json"
    left = killed(f"import tempfile\nfrom ladder.atomic import owned_prefix\n"
                  f"fd, path = tempfile.mkstemp(dir={str(tmp_path)!r}, "
                  f"prefix=owned_prefix('.results.json.'), suffix='.tmp')\nprint('@' + path, flush=True)")
    assert Path(left).exists() and Path(left).parent == tmp_path
    write_atomic(target, "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_only_entries_of_ended_processes_on_this_host_are_removed(tmp_path):
    host = socket.gethostname()
    living = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    try:
        names = {
            "ended": f".x.{host}-{ended.pid}-abc.tmp",
            "living": f".x.{host}-{living.pid}-abc.tmp",
            "mine": f"{owned_prefix('.x.')}abc.tmp",
            "other host": f".x.{host}z-{ended.pid}-abc.tmp",
            "not a pid": f".x.{host}-abc-def.tmp",
            "other prefix": f".y.{host}-{ended.pid}-abc.tmp",
        }
        for name in names.values():
            (tmp_path / name).write_text("")
        (tmp_path / f".x.{host}-{ended.pid}-folder").mkdir()
        (tmp_path / f".x.{host}-{ended.pid}-folder" / "inside.png").write_text("")

        removed = remove_abandoned(tmp_path, ".x.")

        assert sorted(p.name for p in removed) == sorted([names["ended"], f".x.{host}-{ended.pid}-folder"])
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(v for k, v in names.items() if k != "ended")
    finally:
        living.kill()
        living.wait()


def test_a_missing_folder_removes_nothing(tmp_path):
    assert remove_abandoned(tmp_path / "nowhere", ".x.") == []


def test_the_prefix_names_this_host_and_process():
    assert owned_prefix("ladder-runs-") == f"ladder-runs-{socket.gethostname()}-{os.getpid()}-"
