"""A task's warnings are its own notes, even while another thread's task warns at the same time."""

from __future__ import annotations

import threading
import warnings

from ladder.task_warnings import caught_warnings, first_lines


def test_each_thread_catches_only_its_own_warnings_and_the_process_state_comes_back():
    show, filters = warnings.showwarning, list(warnings.filters)
    both_in, caught = threading.Barrier(2), {}

    def task(name: str, leave_first: bool):
        with caught_warnings() as mine:
            both_in.wait()  # the two blocks overlap, and leave in the other order than they came
            for i in range(50):
                warnings.warn(f"{name} {i}\nsecond line", UserWarning)
            both_in.wait()
            if not leave_first:
                both_in.wait()
        if leave_first:
            both_in.wait()
        caught[name] = first_lines(mine)

    threads = [threading.Thread(target=task, args=(name, name == "a")) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert caught == {name: [f"{name} {i}" for i in range(50)] for name in ("a", "b")}
    assert warnings.showwarning is show and warnings.filters == filters


def test_every_repeat_is_caught_and_the_note_is_its_first_line_once():
    def warn():
        warnings.warn("lbfgs failed to converge after 20 iteration(s) (status=1):\nmore", UserWarning)

    with caught_warnings() as caught:
        warn()
        warn()
    assert len(caught) == 2
    assert first_lines(caught) == ["lbfgs failed to converge after 20 iteration(s) (status=1)"]


def test_outside_a_recording_thread_warnings_are_shown_as_usual(recwarn):
    with caught_warnings() as caught:
        elsewhere = threading.Thread(target=warnings.warn, args=("from another thread",))
        elsewhere.start()
        elsewhere.join()
    assert caught == []
    assert [str(w.message) for w in recwarn] == ["from another thread"]  # where they went before
