"""Figures drawn on two cores: a helper process takes figures from the same list as this one."""

from __future__ import annotations

import os
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
    """Fails the test if a helper process is started."""
    def started(*args, **kwargs):
        raise AssertionError("a helper process was started")
    monkeypatch.setattr(drawing, "Helper", started)


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
    """The paths of the runs' files `drawing._pickled` makes from now on, in a list."""
    import contextlib

    pickled, real = [], drawing._pickled

    @contextlib.contextmanager
    def spy(runs):
        with real(runs) as path:
            pickled.append(path)
            yield path
    monkeypatch.setattr(drawing, "_pickled", spy)
    return pickled


def test_the_helper_reads_the_runs_from_a_file_that_is_then_removed(tmp_path, temp, monkeypatch):
    pickled = spy_on_the_pickle(monkeypatch)
    reported, by_helper = _draw(tmp_path, waits_for_the_next)
    assert by_helper and pickled and pickled[0].parent.parent == temp
    assert not pickled[0].exists() and not pickled[0].parent.exists()


def test_the_file_of_a_killed_run_is_removed_by_the_next_run(tmp_path, temp, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(temp))  # the killed child's temporary folder
    left = Path(killed("from ladder import drawing\npickled = drawing._pickled({'n': 1})\n"
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
    monkeypatch.setattr(drawing.pickle, "dump", full)
    _all_drawn_here(tmp_path)
    assert list(temp.iterdir()) == []  # the half-written file is gone


def test_a_helper_that_cannot_start_leaves_the_figures_to_this_process(tmp_path, temp, monkeypatch):
    def cannot(*args, **kwargs):
        raise OSError(11, "Resource temporarily unavailable")
    monkeypatch.setattr(drawing, "Helper", cannot)
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


# -- a helper started early, as `ladder run` starts one for a run on images ---------------------

def test_a_helper_started_early_draws_beside_this_process_even_for_two_figures(tmp_path):
    runs = {"folder": str(tmp_path), "n": 2, "parent": os.getpid()}
    with drawing.helper_started(True) as helper:
        assert helper is not None and helper.process.is_alive()  # importing, then waiting
        by_helper = drawing.draw_figures(runs, tmp_path, helper=helper, jobs_of=waits_for_the_next)
        assert len(by_helper) == 1  # whoever took figure 0 waited for the other to draw figure 1
        assert not helper.process.is_alive()  # draw_figures stopped it
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["f0.png", "f1.png"]


def test_a_helper_started_early_is_stopped_when_it_is_not_needed(tmp_path):
    with drawing.helper_started(True) as helper:
        assert drawing.draw_figures({}, tmp_path, helper=helper, jobs_of=lambda runs: [_plain(0)]) == set()
        assert not helper.process.is_alive()
    assert [p.name for p in tmp_path.glob("*.png")] == ["f0.png"]


def test_a_helper_started_early_that_died_leaves_the_figures_to_this_process(tmp_path):
    import signal

    with drawing.helper_started(True) as helper:
        os.kill(helper.process.pid, signal.SIGKILL)  # as the out-of-memory killer would
        helper.process.join()
        assert drawing.draw_figures({}, tmp_path, helper=helper, jobs_of=plain_figures) == set()
    assert len(list(tmp_path.glob("*.png"))) == drawing.MIN_FIGURES


def plain_figures(runs):
    return [_plain(i) for i in range(drawing.MIN_FIGURES)]


def test_a_run_that_fails_before_its_figures_stops_the_helper_started_early():
    with pytest.raises(KeyboardInterrupt):
        with drawing.helper_started(True) as helper:
            raise KeyboardInterrupt
    assert not helper.process.is_alive() and helper.process.exitcode is not None


def test_no_helper_is_started_unless_asked():
    with drawing.helper_started(False) as helper:
        assert helper is None


def test_a_helper_whose_run_was_killed_ends_by_itself():
    # The helper holds only the reading end of its pipe: when the run dies, it reads the end of
    # the file and quits instead of waiting forever for runs that will never come.
    pid = int(killed("from ladder import drawing\nhelper = drawing.Helper()\n"
                     "print('@', helper.process.pid, flush=True)"))
    deadline = time.monotonic() + 300  # generous: its imports may take long on a busy machine
    while running(pid):
        assert time.monotonic() < deadline, f"the helper {pid} of a killed run is still running"
        time.sleep(0.05)


# -- figures drawn from the data alone, drawn early by the helper ---------------------------------

def with_projections(runs):
    """The t-SNE figure of runs["experiment"], which this process must never draw itself, then two plain ones."""
    def here_never():
        assert os.getpid() != runs["parent"], "this process drew a figure left to the helper"
        return Figure()
    return [(runs["experiment"], "projections", "t-SNE", here_never), _plain(1), _plain(2)]


def with_projections_drawn_here(runs):
    """The same list, but figure 0 is a plain figure wherever it is drawn."""
    return [(runs["experiment"], "projections", "t-SNE", Figure), _plain(1), _plain(2)]


def test_a_figure_of_the_data_alone_is_drawn_early_by_the_helper_and_only_there(tmp_path):
    from ladder.data import load
    from ladder.figures import dataset_figure, render
    from ladder.plots.projections import PROJECTED

    digits = load("digits")
    runs = {"parent": os.getpid(), "experiment": "digits-part"}
    with drawing.helper_started(True) as helper:
        helper.prepare([("digits-part", "projections", digits.subset(PROJECTED, 0))])
        by_helper = drawing.draw_figures(runs, tmp_path, helper=helper, jobs_of=with_projections)
    assert 0 in by_helper
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["digits-part-projections.png", "f1.png", "f2.png"]
    # The same picture as this process draws from the whole dataset.
    assert (tmp_path / "digits-part-projections.png").read_bytes() == render(lambda: dataset_figure("projections", digits))


def test_a_figure_the_helper_could_not_draw_early_is_drawn_here(tmp_path):
    runs = {"parent": os.getpid(), "experiment": "broken"}
    with drawing.helper_started(True) as helper:
        helper.prepare([("broken", "projections", None)])  # no dataset: it fails in the helper
        by_helper = drawing.draw_figures(runs, tmp_path, helper=helper, jobs_of=with_projections_drawn_here)
    assert 0 not in by_helper
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["broken-projections.png", "f1.png", "f2.png"]


def test_the_figures_of_the_data_alone_are_the_t_sne_of_each_image_experiment_without_probes():
    from types import SimpleNamespace

    import numpy as np

    from ladder.figures import dataset_figures
    from ladder.plots.projections import PROJECTED

    images = SimpleNamespace(X_train=np.zeros((3000, 8, 8)), subset=lambda n_train, n_test: ("first", n_train, n_test))
    toys = SimpleNamespace(X_train=np.zeros((3000, 2)))
    specs = [SimpleNamespace(name="digits", probes=None), SimpleNamespace(name="moved", probes={"shift": 3}),
             SimpleNamespace(name="circles", probes=None)]
    assert dataset_figures(specs, [images, images, toys]) == [("digits", "projections", ("first", PROJECTED, 0))]
