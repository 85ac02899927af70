"""Backends: serial, worker processes and Ray give the same numbers; a failed task fails only its rung."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from conftest import leftovers, read_results, temporary_files

from ladder import budget, executors, experiments as exp
from ladder.task import Failed, Task
from ladder.experiments.spec import Component, RungSpec
from ladder.plan import RunPlan, plan_run
from ladder.runner import Listener, RungRun, load_dataset, load_datasets, run_experiments

SEEDS = [0, 1, 2]

BROKEN = """
name = "broken"
title = "a rung that cannot be fitted"
dataset = { name = "circles", n = 200, noise = 0.1, seed = 0, test_size = 0.25 }

[[rungs]]
name = "logreg"
model = { kind = "logistic", backend = "sklearn" }

# Five principal components of two inputs: a file can ask for it, but the fit raises.
[[rungs]]
name = "bad"
features = { kind = "pca", n_components = 5 }
model = { kind = "logistic", backend = "sklearn" }

[[claims]]
text = "the bad rung is worse"
check = "bad.test_accuracy < logreg.test_accuracy"
"""


@pytest.fixture(scope="module")
def ray_instance():
    """One real local Ray for the module: loopback only, no dashboard, a small object store."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # read when ray is imported
    import ray  # the test extras install it (make test installs '.[test,ray]'): never skipped

    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=100 * 2**20,
             log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def planned(specs, seeds, jobs: int, backend: str = "local") -> RunPlan:
    """The plan of `ladder run --jobs JOBS --backend BACKEND --device cpu` with JOBS free cores."""
    return plan_run(specs, load_datasets(specs), len(seeds), jobs, None, backend, None, "cpu", cores=jobs)


def run_on(backend: str, specs, seeds=SEEDS):
    jobs = 1 if backend == "serial" else 2
    return [run.record for run in run_experiments(specs, seeds, planned(specs, seeds, jobs, backend))]


def numbers(records: list[dict]) -> dict:
    """Every metric value of every seed of every rung, and each claim's verdict (timings left out)."""
    values = {(r["name"], rung["name"], key): summary["values"]
              for r in records for rung in r["rungs"] for key, summary in rung["metrics"].items()}
    claims = {(r["name"], c["check"]): (c["holds"], c["value"]) for r in records for c in r["claims"]}
    return {**values, **claims}


def test_serial_local_and_ray_give_the_same_results_on_circles_and_sine(ray_instance):
    specs = [exp.resolve("circles"), exp.resolve("sine")]
    serial = numbers(run_on("serial", specs))
    assert numbers(run_on("local", specs)) == serial
    assert numbers(run_on("ray", specs)) == serial
    assert any(key[2] == "final_loss" for key in serial if len(key) == 3)  # PyTorch rungs compared too


def broken_spec():
    """circles with one more rung that raises when fitted (scikit-learn refuses C = -1)."""
    spec = exp.resolve("circles").model_copy(deep=True)
    spec.rungs.append(RungSpec(name="bad", model=Component(kind="logistic", backend="sklearn", C=-1.0)))
    return spec


@pytest.mark.parametrize("backend", ["serial", "local", "ray"])
def test_a_task_that_raises_marks_its_rung_failed_and_the_rest_complete(backend, request):
    if backend == "ray":
        request.getfixturevalue("ray_instance")
    (record,) = run_on(backend, [broken_spec()], seeds=[0, 1])
    rungs = {r["name"]: r for r in record["rungs"]}
    bad = rungs.pop("bad")
    assert bad["status"] == "failed" and bad["metrics"] == {}
    assert [f["seed"] for f in bad["failures"]] == [0, 1]
    assert all("InvalidParameterError" in f["reason"] and "'C'" in f["reason"] for f in bad["failures"])
    for rung in rungs.values():
        assert rung["status"] == "ok" and None not in rung["metrics"]["test_accuracy"]["values"]
    assert all(c["holds"] for c in record["claims"])  # the circles claims do not name the bad rung


class KillsItsWorker:
    """A rung whose unpickling ends the process that receives it: a worker that dies mid-task."""
    name = "killer"
    train = None

    def __reduce__(self):
        return os._exit, (3,)


@pytest.mark.parametrize("backend", ["local", "ray"])
def test_a_worker_that_dies_fails_its_task_only(backend, request):
    if backend == "ray":
        request.getfixturevalue("ray_instance")
    spec = exp.resolve("circles")
    logreg = next(r for r in spec.rungs if r.model.kind == "logistic")
    tasks = [Task(0, logreg, 0), Task(0, KillsItsWorker(), 0), Task(0, logreg, 1), Task(0, logreg, 2)]
    plan = RunPlan("workers" if backend == "local" else backend, jobs=2, threads=1, device="cpu")
    done = executors.execute(tasks, [load_dataset(spec)], plan, Listener())
    results = {id(task): result for task, result in done}
    killed = results.pop(id(tasks[1]))
    assert isinstance(killed, Failed) and "died" in killed.reason.lower()
    assert len(results) == 3 and all(isinstance(r, RungRun) for r in results.values())


def test_claims_on_a_failed_rung_fail_with_its_reason_and_strict_exits_1(invoke, write_toml, tmp_path):
    out = tmp_path / "out"
    result = invoke("run", write_toml(BROKEN), "--seeds", "2", "--strict", "--out", out,
                    "--backend", "serial")
    assert result.exit_code == 1, result.output
    (experiment,) = read_results(out)["experiments"]
    bad = experiment["rungs"][1]
    assert bad["status"] == "failed" and bad["fit_seconds"]["values"] == [None, None]
    (claim,) = experiment["claims"]
    assert not claim["holds"] and "rung 'bad' failed" in claim["reason"]
    assert "failed: broken/bad seed 0: ValueError: n_components=5" in result.stderr


def test_without_strict_a_failed_task_still_exits_0(invoke, write_toml):
    assert invoke("run", write_toml(BROKEN), "--backend", "serial").exit_code == 0


def test_the_ray_backend_runs_from_the_cli(invoke, tiny_toml, tmp_path, ray_instance):
    out = tmp_path / "out"
    result = invoke("run", tiny_toml, "--seeds", "2", "--backend", "ray", "--out", out, "--no-figures")
    assert result.exit_code == 0, result.output
    (experiment,) = read_results(out)["experiments"]
    assert [len(r["metrics"]["test_accuracy"]["values"]) for r in experiment["rungs"]] == [2, 2]


@pytest.mark.parametrize("args, message", [
    (["--backend", "nope"], "--backend 'nope': choose one of serial, local, ray"),
    (["--address", "auto"], "only the ray backend joins a cluster"),
])
def test_a_bad_backend_option_is_one_line_exit_2(invoke, tiny_toml, args, message):
    result = invoke("run", tiny_toml, *args)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_an_address_where_nothing_answers_is_one_line_exit_2(invoke, tiny_toml, monkeypatch):
    import socket

    with socket.socket() as closed:  # a port that was free a moment ago: nothing listens there
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = invoke("run", tiny_toml, "--backend", "ray", "--address", f"127.0.0.1:{port}")
    assert result.exit_code == 2 and "no Ray cluster answers there" in result.stderr


def test_without_ray_the_ray_backend_says_how_to_install_it(invoke, tiny_toml, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    result = invoke("run", tiny_toml, "--backend", "ray")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: the ray backend needs Ray: pip install 'ladder[ray]'"


DIGITS = """
name = "digits-in-threads"
title = "a run on images: its jobs are threads of one process"
dataset = { name = "digits" }

[[rungs]]
name = "logreg"
features = { kind = "standardize" }
model = { kind = "logistic", backend = "sklearn", max_iter = 5 }

[[rungs]]
name = "mlp"
model = { kind = "mlp", hidden = [32] }
train = { epochs = 3, optimizer = "adam", lr = 0.01, batch_size = 64 }

[[rungs]]
name = "cnn"
model = { kind = "cnn" }
train = { epochs = 2, optimizer = "adam", lr = 0.01, batch_size = 64 }
"""


def test_a_run_on_images_gives_the_same_numbers_and_notes_in_threads_as_in_one(write_toml, monkeypatch):
    spec = exp.resolve(str(write_toml(DIGITS)))
    real, calls = executors.run_threads, []

    def spy(*args):
        calls.append(args)
        return real(*args)
    monkeypatch.setattr(executors, "run_threads", spy)

    def run(jobs):
        with budget.budget(1):  # as `ladder run` does: one thread a task either way, the CNN's too
            (done,) = run_experiments([spec], [0, 1, 2], planned([spec], [0, 1, 2], jobs))
        return numbers([done.record]), [rung.get("notes", []) for rung in done.record["rungs"]]

    alone = run(1)
    assert not calls
    together = run(2)
    assert len(calls) == 1  # two jobs of one thread on images: threads of this process
    assert together == alone
    notes = together[1]  # each warning is its own task's note, though the tasks overlapped
    assert any("lbfgs failed to converge" in note for note in notes[0]) and notes[1] == notes[2] == []


class Follows(Listener):
    """Every call a listener gets, with the thread it came from."""

    def __init__(self):
        self.calls = []

    def rung_started(self, rung, seed, epochs):
        self.calls.append((threading.get_ident(), "started", rung, seed, epochs))

    def epoch_done(self, epoch, history):
        self.calls.append((threading.get_ident(), "epoch", epoch))

    def rung_done(self, rung, seed, record):
        self.calls.append((threading.get_ident(), "done", rung, seed))


def test_in_threads_the_listener_follows_each_task_epoch_by_epoch_in_its_own_thread(write_toml):
    spec, follows = exp.resolve(str(write_toml(DIGITS))), Follows()
    with budget.budget(1):
        run_experiments([spec], [0, 1], planned([spec], [0, 1], 2), follows)
    by_thread = {}
    for thread, *call in follows.calls:
        by_thread.setdefault(thread, []).append(tuple(call))
    assert threading.get_ident() not in by_thread  # the progress bar is not left to the main thread
    followed = {}
    for calls in by_thread.values():  # each thread: a task started, its epochs in order, done; the next
        while calls:
            (kind, rung, seed, epochs), calls = calls[0], calls[1:]
            n = epochs or 0
            assert kind == "started" and calls[:n + 1] == [*(("epoch", e) for e in range(n)), ("done", rung, seed)]
            followed[rung, seed], calls = epochs, calls[n + 1:]
    assert followed == {("cnn", 0): 2, ("cnn", 1): 2, ("mlp", 0): 3, ("mlp", 1): 3,
                        ("logreg", 0): None, ("logreg", 1): None}


def test_in_threads_an_error_in_the_listener_reaches_the_caller(write_toml):
    class Broken(Listener):  # (an epoch_done that raises fails its task, as when run serially)
        def rung_started(self, rung, seed, epochs):
            raise RuntimeError("the progress bar broke")

    spec = exp.resolve(str(write_toml(DIGITS)))
    with budget.budget(1), pytest.raises(RuntimeError, match="the progress bar broke"):
        run_experiments([spec], [0, 1], planned([spec], [0, 1], 2), Broken())


FITS_UNTIL_STOPPED = DIGITS.split("[[rungs]]")[0] + """
[[rungs]]
name = "cnn"
model = { kind = "cnn" }
train = { epochs = 100000, optimizer = "adam", lr = 0.001 }

[[rungs]]
name = "mlp"
model = { kind = "mlp", hidden = [32] }
train = { epochs = 2, optimizer = "adam", lr = 0.01, batch_size = 64 }

[[rungs]]
name = "linear"
model = { kind = "logistic", backend = "torch" }
train = { epochs = 100000, optimizer = "adam", lr = 0.001 }
"""

# `ladder run`, as a real process, saying on stdout when each task starts fitting.
SAYS_WHEN_FITTING = r"""
import signal, sys
# As from a terminal: a suite started in the background (`cmd &` in a script) hands its children
# SIGINT ignored, and Python then installs no handler that could raise the interrupt.
signal.signal(signal.SIGINT, signal.default_int_handler)
from ladder import budget, executors
from ladder.cli import main

attempt = executors.attempt
def saying(task, *args):
    sys.stdout.write(f"fitting {task.rung.name}\n")  # one write: the two threads' lines stay whole
    sys.stdout.flush()
    return attempt(task, *args)
executors.attempt = saying
budget.idle_cores = lambda *args, **kwargs: 2  # two idle cores, however busy the machine is
sys.argv = ["ladder", "run", *sys.argv[1:]]
main()
"""


def test_ctrl_c_during_fits_in_threads_exits_130_at_once_and_writes_nothing(write_toml, tmp_path):
    import signal
    import subprocess

    spec, out = write_toml(FITS_UNTIL_STOPPED), tmp_path / "out"
    args = [str(spec), "--jobs", "2", "--threads", "1", "--out", str(out)]  # threads, on any machine
    process = subprocess.Popen([sys.executable, "-c", SAYS_WHEN_FITTING, *args], start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = [process.stdout.readline() for _ in range(3)]
        assert started == ["fitting cnn\n", "fitting mlp\n", "fitting linear\n"]
        # The CNN and the linear model are fitting, in two threads: a terminal's Ctrl-C reaches
        # every process of the group.
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=600)
    finally:
        process.kill()
    # Leaving the usual way, Python stops the threads inside PyTorch's C++ code and the process
    # aborts: "terminate called without an active exception", exit -6 (seen once a thread has
    # finished one PyTorch fit and started another).
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "interrupted; no results were written"
    assert "Traceback" not in stderr and "leaked" not in stderr, stderr
    assert leftovers(out) == [] and not temporary_files(tmp_path)


@pytest.mark.parametrize("n_tasks, images, jobs, threads, backend, where", [
    (8, False, 2, 1, "local", "workers"), (8, True, 2, 1, "local", "threads"),
    (8, True, 1, 2, "local", "serial"), (1, False, 2, 1, "local", "serial"),
    (8, True, 2, 2, "local", "workers"), (8, False, 2, 1, "serial", "serial"), (8, False, 2, 1, "ray", "ray"),
])
def test_where_the_tasks_run(n_tasks, images, jobs, threads, backend, where):
    import numpy as np

    from ladder.plan import runs_in
    from ladder.data import Dataset

    X = np.zeros((4, 8, 8) if images else (4, 2))
    dataset = Dataset("d", "classification", X, X[:2], np.arange(4) % 2, np.arange(2))
    assert runs_in(n_tasks, [dataset], jobs, threads, backend) == where


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_model_reused_through_a_chain_of_same_as_is_fitted_once_and_scored_in_each(write_toml, jobs):
    from conftest import TINY

    dataset = 'dataset = { name = "circles", n = 200, noise = 0.1, seed = 0, test_size = 0.25 }'
    first = write_toml(TINY.replace('name = "tiny"', 'name = "first"', 1), "first.toml")
    second = write_toml(f'name = "second"\n{dataset}\n\n[[rungs]]\nname = "again"\n'
                        f'same_as = "{first}:mlp"\n', "second.toml")
    third = write_toml(f'name = "third"\n{dataset}\n\n[[rungs]]\nname = "once-more"\n'
                       f'same_as = "{second}:again"\n', "third.toml")
    specs = [exp.resolve(str(path)) for path in (third, second, first)]  # the chain's end first
    fitted = []

    class Counts(Listener):
        def rung_started(self, rung, seed, epochs):
            fitted.append(rung)

    runs = run_experiments(specs, [0], planned(specs, [0], jobs), Counts())
    accuracy = {run.record["name"]: run.record["rungs"][-1]["metrics"]["test_accuracy"]["values"]
                for run in runs}
    assert sorted(fitted) == ["logreg", "mlp"]  # the MLP is trained once, for "first"
    assert accuracy["third"] == accuracy["second"] == accuracy["first"]
    assert runs[0].models["once-more"] is runs[2].models["mlp"]


def test_a_reused_model_whose_scoring_raises_fails_that_rung_only(write_toml, monkeypatch):
    from conftest import TINY

    from ladder import runner
    from ladder.experiments.schema import ProbeSpec

    first = write_toml(TINY.replace('name = "tiny"', 'name = "first"', 1), "first.toml")
    again = write_toml(f'name = "again"\n'
                       f'dataset = {{ name = "circles", n = 200, noise = 0.1, seed = 0, test_size = 0.25 }}\n\n'
                       f'[[rungs]]\nname = "twin"\nsame_as = "{first}:mlp"\n', "again.toml")
    source, reuser = exp.resolve(str(first)), exp.resolve(str(again))
    reuser = reuser.model_copy(update={"probes": ProbeSpec(shift=[0], rotate=[0])})

    def broken(*args):
        raise RuntimeError("the probes could not be scored")
    monkeypatch.setattr(runner, "probe_scores", broken)

    first_run, again_run = run_experiments([source, reuser], [0, 1], RunPlan(device="cpu"))
    (twin,) = again_run.record["rungs"]
    assert twin["status"] == "failed"
    assert [f["reason"] for f in twin["failures"]] == ["RuntimeError: the probes could not be scored"] * 2
    assert all(r["status"] == "ok" for r in first_run.record["rungs"])  # the model it reuses is fine


def test_without_multiprocessing_s_private_names_the_worker_server_is_left_to_end_with_the_process(
        monkeypatch):
    import subprocess
    from multiprocessing import forkserver

    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        class Server:  # a forkserver module of another Python: a pid, no _stop
            _forkserver_pid = bystander.pid
        monkeypatch.setattr(forkserver, "_forkserver", Server())
        executors.stop_worker_server()
        monkeypatch.delattr(forkserver, "_forkserver")
        executors.stop_worker_server()
        assert bystander.poll() is None  # nothing was ended that could not then be reaped
    finally:
        bystander.kill()
        bystander.wait()


def test_the_convolutional_fits_start_first_and_the_rest_keep_their_order():
    spec = exp.resolve("mnist1d")  # its CNNs come fifth and last in the file
    tasks = [Task(0, rung, seed) for rung in spec.rungs for seed in range(3)]
    ordered = executors.longest_first(tasks)
    assert [t.rung.name for t in ordered[:6]] == ["cnn"] * 3 + ["cnn+shuffle"] * 3
    assert ordered[6:] == [t for t in tasks if t.rung.model.kind != "cnn1d"]
    assert sorted(map(id, ordered)) == sorted(map(id, tasks))
