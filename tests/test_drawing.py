"""Figures drawn on two cores: a worker process takes figures from the same list as this one."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from ladder import drawing
from ladder.figures import figure_jobs
from ladder.runner import run_experiment

from conftest import TINY, killed, running

# The helper process rebuilds its list of figures by calling the `jobs_of` it was given, so these
# lists are made by functions of this module; `runs` is a plain dict that says what each figure does.


def _wait_for(path: Path) -> None:
    """Until `path` exists; a generous bound, so that a missing helper fails the test, not hangs it."""
    deadline = time.monotonic() + 300
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.name} never appeared: nobody else drew it")
        time.sleep(0.02)


def _plain(index: int):
    return (None, f"f{index}", f"figure {index}", Figure)


def waits_for_the_next(runs):
    """Figure 0 waits for figure 1, which only another process can draw meanwhile."""
    folder = Path(runs["folder"])
    first = (None, "f0", "figure 0", lambda: (_wait_for(folder / "f1.png"), Figure())[1])
    return [first] + [_plain(i) for i in range(1, runs["n"])]


def _fails_in(runs, where: str):
    if where == "everywhere" or (where == "helper" and os.getpid() != runs["parent"]):
        raise ValueError("this figure cannot be drawn here")
    return Figure()


def one_fails(runs):
    """Figure 1 fails where runs["fails"] says; figure 0 waits until the helper has tried it."""
    folder = Path(runs["folder"])

    def broken():
        if os.getpid() != runs["parent"]:
            (folder / "tried").touch()
        return _fails_in(runs, runs["fails"])

    first = (None, "f0", "figure 0", lambda: (_wait_for(folder / "tried"), Figure())[1])
    jobs = [first, (None, "f1", "figure 1", broken)]
    return jobs + [_plain(i) for i in range(2, runs["n"])]


def helper_dies(runs):
    """Figure 1 ends the helper process, which leaves it undrawn."""
    folder = Path(runs["folder"])

    def deadly():
        if os.getpid() != runs["parent"]:
            (folder / "tried").touch()
            os._exit(3)
        return Figure()

    first = (None, "f0", "figure 0", lambda: (_wait_for(folder / "tried"), Figure())[1])
    return [first, (None, "f1", "figure 1", deadly)] + [_plain(i) for i in range(2, runs["n"])]


def _draw(tmp_path, jobs_of, **runs):
    runs = {"folder": str(tmp_path), "n": drawing.MIN_FIGURES, "parent": os.getpid(), **runs}
    reported = []
    by_helper = drawing.draw_figures(runs, tmp_path, reported.append, helper=True, jobs_of=jobs_of)
    return reported, by_helper


def test_the_helper_draws_figures_while_this_process_draws(tmp_path):
    reported, by_helper = _draw(tmp_path, waits_for_the_next)
    assert sorted(reported) == list(range(drawing.MIN_FIGURES))  # each figure reported once
    assert by_helper and 0 not in by_helper
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(f"f{i}.png" for i in range(drawing.MIN_FIGURES))


def test_a_figure_the_helper_could_not_draw_is_drawn_here(tmp_path):
    reported, by_helper = _draw(tmp_path, one_fails, fails="helper")
    assert sorted(reported) == list(range(drawing.MIN_FIGURES))
    assert 1 not in by_helper and (tmp_path / "f1.png").exists()


@pytest.fixture
def no_helper(monkeypatch):
    """Fails the test if a worker process is started."""
    def started(*args, **kwargs):
        raise AssertionError("a worker process was started")
    monkeypatch.setattr(drawing, "ProcessPoolExecutor", started)


@pytest.fixture
def temp(tmp_path, monkeypatch) -> Path:
    """The temporary folder the runs are pickled into, empty."""
    import tempfile

    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_a_figure_that_cannot_be_drawn_fails_the_drawing_here(tmp_path, temp):
    with pytest.raises(ValueError, match="cannot be drawn here"):
        _draw(tmp_path, one_fails, fails="everywhere")
    assert list(temp.iterdir()) == []  # the pickled runs' file is gone


def spy_on_the_pickle(monkeypatch) -> list[Path]:
    """The paths of the runs' files `drawing.pickled` makes from now on, in a list."""
    import contextlib

    pickled, real = [], drawing.pickled

    @contextlib.contextmanager
    def spy(runs, prefix):
        with real(runs, prefix) as path:
            pickled.append(path)
            yield path
    monkeypatch.setattr(drawing, "pickled", spy)
    return pickled


def test_the_helper_reads_the_runs_from_a_file_that_is_then_removed(tmp_path, temp, monkeypatch):
    pickled = spy_on_the_pickle(monkeypatch)
    reported, by_helper = _draw(tmp_path, waits_for_the_next)
    assert by_helper and pickled and pickled[0].parent.parent == temp
    assert not pickled[0].exists() and not pickled[0].parent.exists()


def test_the_file_of_a_killed_run_is_removed_by_the_next_run(tmp_path, temp, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(temp))  # the killed child's temporary folder
    left = Path(killed("from ladder import drawing\npickled = drawing.pickled({'n': 1}, 'ladder-runs-')\n"
                       "print('@', pickled.__enter__(), flush=True)"))
    assert left.parent.parent == temp and left.exists()  # a SIGKILL leaves it: nobody could remove it
    pickled = spy_on_the_pickle(monkeypatch)
    _draw(tmp_path, waits_for_the_next)
    assert pickled and not left.exists()
    assert list(temp.iterdir()) == []


def _all_drawn_here(tmp_path, runs=None) -> None:
    jobs = [_plain(i) for i in range(drawing.MIN_FIGURES)]
    assert drawing.draw_figures(runs or {}, tmp_path, helper=True, jobs_of=lambda runs: jobs) == set()
    assert len(list(tmp_path.glob("*.png"))) == drawing.MIN_FIGURES


def test_a_temporary_folder_that_cannot_take_the_runs_leaves_the_figures_to_this_process(
        tmp_path, monkeypatch, no_helper):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))  # cannot be written to
    _all_drawn_here(tmp_path)


def test_a_full_temporary_folder_leaves_the_figures_to_this_process(tmp_path, temp, monkeypatch,
                                                                     no_helper):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("ladder.atomic.pickle.dump", full)
    _all_drawn_here(tmp_path)
    assert list(temp.iterdir()) == []  # the half-written file is gone


def test_a_helper_that_cannot_start_leaves_the_figures_to_this_process(tmp_path, temp, monkeypatch):
    def cannot(*args, **kwargs):
        raise OSError(24, "Too many open files")
    monkeypatch.setattr(drawing, "ProcessPoolExecutor", cannot)
    _all_drawn_here(tmp_path)
    assert list(temp.iterdir()) == []


def test_runs_that_cannot_be_pickled_are_drawn_here_alone(tmp_path, temp, no_helper):
    _all_drawn_here(tmp_path, {"lock": __import__("threading").Lock()})
    assert list(temp.iterdir()) == []


def test_what_a_helper_that_died_left_is_drawn_here(tmp_path):
    reported, by_helper = _draw(tmp_path, helper_dies)
    assert sorted(reported) == list(range(drawing.MIN_FIGURES))
    assert 1 not in by_helper
    assert len(list(tmp_path.glob("*.png"))) == drawing.MIN_FIGURES


def test_few_figures_are_drawn_here_alone(tmp_path, no_helper):
    jobs = [_plain(i) for i in range(drawing.MIN_FIGURES - 1)]
    assert drawing.draw_figures({}, tmp_path, helper=True, jobs_of=lambda runs: jobs) == set()
    assert len(list(tmp_path.glob("*.png"))) == drawing.MIN_FIGURES - 1


def real_figures(runs):
    return figure_jobs(runs["runs"])


def real_figures_the_helper_draws_but_one(runs):
    """The runs' figures; the first waits until the last is drawn: the helper draws all others."""
    from ladder.figures import file_name

    jobs = real_figures(runs)
    last = Path(runs["folder"]) / file_name(jobs[-1])
    experiment, slug, title, draw = jobs[0]
    return [(experiment, slug, title, lambda: (_wait_for(last), draw())[1])] + jobs[1:]


def test_the_helper_draws_the_same_pictures(tmp_path, write_toml, monkeypatch):
    from ladder.experiments import resolve

    runs = [run_experiment(resolve(str(write_toml(text, f"{i}.toml"))), [0])
            for i, text in enumerate((TINY, TINY.replace('name = "tiny"', 'name = "tiny-b"', 1)))]
    monkeypatch.setattr(drawing, "MIN_FIGURES", 2)  # enough figures for a helper
    alone, helped = tmp_path / "alone", tmp_path / "helped"
    alone.mkdir(), helped.mkdir()
    n = len(figure_jobs(runs))
    assert drawing.draw_figures({"runs": runs}, alone, jobs_of=real_figures) == set()
    by_helper = drawing.draw_figures({"runs": runs, "folder": str(helped)}, helped, helper=True,
                                     jobs_of=real_figures_the_helper_draws_but_one)
    assert by_helper == set(range(1, n)) and n >= 8
    pictures = {p.name: p.read_bytes() for p in alone.iterdir()}
    assert len(pictures) == n
    assert {p.name: p.read_bytes() for p in helped.iterdir()} == pictures


def figure_1_fails_in_the_worker():
    raise ValueError("this figure cannot be drawn in the worker")


def figure_1_kills_the_worker():
    os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would


def real_figures_the_worker_fails_at(runs):
    """The runs' figures; figure 1 calls runs["there"] when the worker draws it, and figure 0
    waits until the worker has tried: this process draws figure 0, the worker takes figure 1."""
    jobs, tried = real_figures(runs), Path(runs["signals"]) / "tried"

    def second(draw=jobs[1][3]):
        if os.getpid() != runs["parent"]:
            tried.touch()
            runs["there"]()
        return draw()
    return ([jobs[0][:3] + (lambda draw=jobs[0][3]: (_wait_for(tried), draw())[1],), jobs[1][:3] + (second,)]
            + jobs[2:])


@pytest.mark.parametrize("there", [figure_1_fails_in_the_worker, figure_1_kills_the_worker])
def test_a_figure_the_worker_fails_at_or_dies_on_is_drawn_here_the_same(tmp_path, write_toml, monkeypatch,
                                                                          there):
    from ladder.experiments import resolve

    runs = [run_experiment(resolve(str(write_toml(text, f"{i}.toml"))), [0])
            for i, text in enumerate((TINY, TINY.replace('name = "tiny"', 'name = "tiny-b"', 1)))]
    monkeypatch.setattr(drawing, "MIN_FIGURES", 2)  # enough figures for a worker
    alone, helped = tmp_path / "alone", tmp_path / "helped"
    alone.mkdir(), helped.mkdir()
    assert drawing.draw_figures({"runs": runs}, alone, jobs_of=real_figures) == set()
    reported = []
    by_worker = drawing.draw_figures({"runs": runs, "signals": str(tmp_path), "parent": os.getpid(),
                                      "there": there}, helped, reported.append, helper=True,
                                     jobs_of=real_figures_the_worker_fails_at)
    assert (tmp_path / "tried").exists() and 1 not in by_worker
    assert sorted(reported) == list(range(len(figure_jobs(runs))))  # each figure reported once
    pictures = {p.name: p.read_bytes() for p in alone.iterdir()}
    assert len(pictures) == len(reported) >= 8
    assert {p.name: p.read_bytes() for p in helped.iterdir()} == pictures


def test_a_worker_whose_run_was_killed_ends_by_itself():
    # Its pool's queues stay open in the worker itself: without a watch on its parent it would
    # wait for the next figure forever.
    pid = int(killed("import os\nfrom ladder import drawing\nworker = drawing._worker([], None)\n"
                     "pool = worker.__enter__()\n"
                     "print('@', pool.submit(os.getpid).result(), flush=True)"))
    deadline = time.monotonic() + 300  # generous: its imports may take long on a busy machine
    while running(pid):
        assert time.monotonic() < deadline, f"the worker {pid} of a killed run is still running"
        time.sleep(0.05)
