"""Temporary entries left by a process killed outright are removed by the next one, and only those."""

from __future__ import annotations

from pathlib import Path

from ladder.atomic import remove_abandoned, write_atomic

from conftest import holding, killed, wait_for_line


HOLD = """
import os, tempfile
from ladder.atomic import held
folder = {folder!r}
fd, path = tempfile.mkstemp(dir=folder, prefix=".x.", suffix=".tmp")
os.mkdir(os.path.join(folder, ".x.folder-held"))
locks = [held(path, fd), held(os.path.join(folder, ".x.folder-held"))]  # kept: held until killed
for lock in locks:
    lock.__enter__()
print("@" + path, flush=True)
"""


def test_a_killed_writer_leaves_its_file_and_the_next_write_removes_it(tmp_path):
    target = tmp_path / "results.json"
    left = killed(f"import tempfile\nfrom ladder.atomic import held\n"
                  f"fd, path = tempfile.mkstemp(dir={str(tmp_path)!r}, prefix='.results.json.', suffix='.tmp')\n"
                  f"lock = held(path, fd)\nlock.__enter__()\nprint('@' + path, flush=True)")
    assert Path(left).exists() and Path(left).parent == tmp_path  # SIGKILL: nobody could remove it
    write_atomic(target, "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_only_entries_that_no_running_process_holds_are_removed(tmp_path):
    (tmp_path / ".x.abandoned.tmp").write_text("")
    (tmp_path / ".x.folder-abandoned").mkdir()
    (tmp_path / ".x.folder-abandoned" / "inside.png").write_text("")
    (tmp_path / ".y.other-prefix.tmp").write_text("")
    (tmp_path / ".x.other-suffix.gz").write_text("")
    (tmp_path / ".x.link.tmp").symlink_to(tmp_path / ".y.other-prefix.tmp")
    child = holding(HOLD.format(folder=str(tmp_path)))  # a live process holds a file and a folder
    try:
        held_file = Path(wait_for_line(child)).name
        removed = remove_abandoned(tmp_path, ".x.")
        assert sorted(p.name for p in removed) == [".x.abandoned.tmp", ".x.folder-abandoned",
                                                   ".x.other-suffix.gz"]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [held_file, ".x.folder-held", ".x.link.tmp", ".y.other-prefix.tmp"])
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert sorted(p.name for p in remove_abandoned(tmp_path, ".x.", ".tmp")) == [held_file]  # ended now
    assert sorted(p.name for p in remove_abandoned(tmp_path, ".x.")) == [".x.folder-held"]


def test_a_missing_folder_removes_nothing(tmp_path):
    assert remove_abandoned(tmp_path / "nowhere", ".x.") == []


def test_a_fifo_or_a_link_under_the_prefix_is_left_alone_without_blocking(tmp_path):
    import os

    os.mkfifo(tmp_path / ".results.json.pipe.tmp")  # opening it for reading would block for ever
    (tmp_path / ".results.json.link.tmp").symlink_to(tmp_path / "elsewhere")
    write_atomic(tmp_path / "results.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".results.json.link.tmp", ".results.json.pipe.tmp",
                                                         "results.json"]


def test_a_file_system_without_locks_still_takes_writes_and_loses_nothing(tmp_path, monkeypatch):
    import errno

    import ladder.atomic

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")
    monkeypatch.setattr(ladder.atomic.fcntl, "flock", no_locks)
    (tmp_path / ".results.json.someone.tmp").write_text("")  # cannot be locked: cannot be judged
    write_atomic(tmp_path / "results.json", "{}")
    assert (tmp_path / "results.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".results.json.someone.tmp", "results.json"]
