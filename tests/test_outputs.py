"""A run's output folder: exactly one run in it, the previous run kept whole when a run fails."""

from __future__ import annotations

import os
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import TINY, killed, leftovers, read_results, run_ladder

TINY_B = TINY.replace('name = "tiny"', 'name = "tiny-b"', 1)


def siblings(out: Path) -> list[str]:
    """What a run left beside its --out folder: staged or set-aside folders would show here."""
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name and p.name.startswith("."))


def test_a_reused_folder_holds_only_the_new_run(invoke, write_toml, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", write_toml(TINY, "a.toml"), "--out", out).exit_code == 0
    (out / "my-notes.txt").write_text("mine", encoding="utf-8")
    old_figures = sorted(p.name for p in (out / "figures").iterdir())
    assert old_figures and all(name.startswith("tiny-") for name in old_figures)

    assert invoke("run", write_toml(TINY_B, "b.toml"), "--out", out).exit_code == 0
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures and all(name.startswith("tiny-b-") for name in figures)
    assert [p.name for p in (out / "models").iterdir()] == ["tiny-b--mlp.safetensors"]
    assert [e["name"] for e in read_results(out)["experiments"]] == ["tiny-b"]
    assert (out / "my-notes.txt").read_text(encoding="utf-8") == "mine"  # not ladder's to delete
    assert siblings(out) == []


def test_a_run_that_fails_while_drawing_keeps_the_previous_run(invoke, tiny_toml, write_toml, tmp_path,
                                                               monkeypatch):
    out = tmp_path / "out"
    assert invoke("run", tiny_toml, "--out", out).exit_code == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr("ladder.drawing.draw_figures", interrupted)
    result = invoke("run", write_toml(TINY_B, "b.toml"), "--out", out)
    assert result.exit_code == 130
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert siblings(out) == []


def test_what_a_killed_run_staged_beside_the_folder_is_removed_by_the_next_run(invoke, tiny_toml, tmp_path):
    out = tmp_path / "out"
    stuck = ("import time\nimport ladder.outputs\n"
             "def drawing(stage, *args):\n    print('@', stage, flush=True)\n    time.sleep(3600)\n"
             "ladder.outputs._draw = drawing\nfrom ladder.cli import app\n"
             f"app(['run', {str(tiny_toml)!r}, '--out', {str(out)!r}])")
    staged = Path(killed(stuck))
    assert staged.parent == tmp_path and siblings(out) == [staged.name]  # SIGKILL: nobody cleaned up
    assert invoke("run", tiny_toml, "--out", out).exit_code == 0
    assert siblings(out) == []
    assert {"results.json", "report.html", "figures"} <= set(leftovers(out))


def test_files_get_the_users_normal_permissions(invoke, tiny_toml, tmp_path):
    out = tmp_path / "out"
    mask = os.umask(0o022)
    try:
        assert invoke("run", tiny_toml, "--out", out).exit_code == 0
    finally:
        os.umask(mask)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"results.json", "report.html", "tiny--mlp.safetensors"} <= {p.name for p in files}
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == {p.name: 0o644 for p in files}


@pytest.fixture
def tiny_disk(tmp_path):
    """A 300 KB filesystem (tmpfs) that a run with figures fills up; skipped where mounting is not allowed."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", f"ladder-{uuid.uuid4().hex[:8]}",
                              str(disk)], capture_output=True)
    if mounted.returncode != 0:
        yield None
        return
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_full_disk_is_one_line_exit_2_and_the_previous_outputs_stay(tiny_disk, tiny_toml, monkeypatch,
                                                                       invoke, tmp_path):
    if tiny_disk is not None:  # the real thing: a real process on a filesystem that fills up
        out = tiny_disk / "out"
        assert run_ladder("run", tiny_toml, "--out", out, "--no-figures").returncode == 0
        old = (out / "results.json").read_bytes()
        done = run_ladder("run", tiny_toml, "--out", out)  # figures need far more than 300 KB
        code, stderr = done.returncode, done.stderr
    else:  # no mount here: a writer that finds the disk full
        out = tmp_path / "out"
        assert invoke("run", tiny_toml, "--out", out, "--no-figures").exit_code == 0
        old = (out / "results.json").read_bytes()

        def full(path, content):
            raise OSError(28, "No space left on device")
        monkeypatch.setattr("ladder.outputs.write_atomic", full)
        result = invoke("run", tiny_toml, "--out", out)
        code, stderr = result.exit_code, result.stderr
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert "No space left on device" in stderr and str(out) in stderr
    assert (out / "results.json").read_bytes() == old
    assert leftovers(out) == ["results.json"]
    assert siblings(out) == []
