"""Executors: run a list of tasks (one rung fitted with one seed each) and hand back the results.

The runner builds the tasks and assembles the records; an executor only runs them. `serial` runs
them one after another in this process (the progress bar follows every epoch); `local` runs them
in worker processes, each task with its share of the compute budget (the bar follows tasks), or,
for a run on images, in threads of this process that share the dataset; `ray` runs them as Ray
tasks on a local instance or a cluster (see ladder.ray_executor). The `--backend` option names
the executor (serial, local or ray).
Same tasks, same numbers, whichever executor: every task seeds itself (ladder.task).

A task that raises, or whose worker dies, comes back as `Failed(reason)` and the others go on;
only a LadderError (a mistake in the user's input, the same for every task) stops the run.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Iterator

from . import budget
from .errors import LadderError
from .plan import CONVOLUTIONAL, RunPlan
from .task import Failed, Task, attempt, describe, report_done


def run_serial(tasks: list[Task], datasets: list, plan: RunPlan, listener) -> Iterator[tuple[Task, object]]:
    """Each task in turn, in this process; yields (task, RungRun or Failed) as each finishes."""
    for task in tasks:
        epochs = task.rung.train.epochs if task.rung.train else None
        listener.rung_started(task.rung.name, task.seed, epochs)
        with budget.budget(plan.threads, plan.asked_threads):
            result = attempt(task, datasets[task.experiment], plan.device, listener)
        listener.rung_done(task.rung.name, task.seed, result)
        yield task, result


# -- worker processes ---------------------------------------------------------------------------
_worker_datasets: list = []


def _start_worker(datasets: list, threads: int, asked_threads: int | None) -> None:
    """Runs once in each worker: keep the datasets (sent once, not once per task) and the budget."""
    global _worker_datasets
    _worker_datasets = datasets
    budget.set_cap(threads, asked_threads)


def _run_task(task: Task, device: str):
    return attempt(task, _worker_datasets[task.experiment], device)


#: What the worker processes' server imports once, before it forks them. torch._dynamo too:
#: PyTorch's first optimizer in a process imports it (1.3-1.4 s on a 2-core machine), and a
#: worker forked from a server that has imported it already pays nothing. scikit-learn's linear
#: models likewise: nearly every experiment has a scikit-learn rung, and building the first one
#: imports scikit-learn (about a second of each worker's core on a 2-core machine).
_preloads: set[str] = {"torch._dynamo", "sklearn.linear_model", "sklearn.pipeline"}


def worker_context(preload: str = "ladder.runner"):
    """The multiprocessing context of ladder's worker processes, with `preload` imported once.

    The forkserver is one per process: it imports every module asked for before it started
    (a run's workers and the playground's may share it); a module asked for later is imported
    by each worker as it starts.
    """
    _preloads.add(preload)
    # forkserver: workers are forked from a clean server that has imported ladder once, so they
    # start in well under a second and inherit no threads (a fork of a process that already ran
    # OpenMP or a progress bar's thread can hang). Elsewhere (macOS, Windows) spawn is all there is.
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(sorted(_preloads))
        return ctx
    return multiprocessing.get_context("spawn")


def start_workers_early() -> None:
    """Start the worker processes' server now, so that it imports ladder and PyTorch on another
    core while this process reads and checks the experiments (measured on a 2-core machine:
    `ladder run circles sine spirals --seeds 3` started its workers about 3 s after its
    experiments were ready, the server's imports and each worker's first optimizer; a server
    started first has them done by then). Where workers are spawned (macOS, Windows), nothing."""
    from multiprocessing import forkserver

    if worker_context().get_start_method() == "forkserver":
        forkserver.ensure_running()


def stop_worker_server() -> None:
    """End the worker processes' server, if one runs (a run that planned no workers after all,
    or a command that is ending). Ended, not asked to stop: asked, it exits through Python's
    own teardown, a second spent holding this command's output open (a pipe, a `| tee`) after
    the command is done. It holds nothing else: its workers have ended with their pools."""
    import signal
    from multiprocessing import forkserver

    # No public API stops the server before exit: these are multiprocessing's private names
    # (Python 3.11-3.13). A Python without them leaves the server to end with this process, as
    # it always does, only a second later (tests/test_executors.py runs both ways).
    server = getattr(forkserver, "_forkserver", None)
    pid, stop = getattr(server, "_forkserver_pid", None), getattr(server, "_stop", None)
    if pid is None or stop is None:
        return
    os.kill(pid, signal.SIGTERM)  # no handler there: it ends at once
    stop()  # reaped, its socket removed; a later pool starts a new one


def _outcome(future):
    """A finished future's result; a pool broken by a dead worker comes back as the exception."""
    try:
        return future.result()
    except (BrokenProcessPool, LadderError):
        raise
    except Exception as exc:  # the record could not be sent back (pickling), say
        return Failed(describe(exc))


def _in_pool(tasks: list[Task], datasets: list, plan: RunPlan, jobs: int) -> Iterator[tuple[Task, object]]:
    """(task, result) as each ends in a pool of `jobs` workers; (task, BrokenProcessPool) if one died."""
    with ProcessPoolExecutor(max_workers=jobs, mp_context=worker_context(), initializer=_start_worker,
                             initargs=(datasets, plan.threads or 1, plan.asked_threads)) as pool:
        pending = {pool.submit(_run_task, task, plan.device): task for task in tasks}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    try:
                        yield task, _outcome(future)
                    except BrokenProcessPool as exc:
                        yield task, exc
        except BaseException:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def run_workers(tasks: list[Task], datasets: list, plan: RunPlan, listener) -> Iterator[tuple[Task, object]]:
    """Tasks in the plan's worker processes, its threads each; yields (task, result) as each ends.

    A worker that dies breaks the whole pool without saying which task it ran, so the unfinished
    tasks run again in a pool of one worker, in order: when that one breaks, the task it was
    running is the culprit and is marked failed; the rest go on. On Ctrl-C the pending tasks
    are cancelled and the workers stopped.
    """
    left, jobs = longest_first(tasks), plan.jobs
    while left:
        unfinished = []
        for task, result in _in_pool(left, datasets, plan, jobs):
            if isinstance(result, BrokenProcessPool):
                unfinished.append(task)
            else:
                yield report_done(listener, task, result)
        unfinished.sort(key=left.index)
        if unfinished and jobs == 1:
            yield report_done(listener, unfinished[0], Failed("its worker process died (killed, or out of memory)"))
            unfinished = unfinished[1:]
        left, jobs = unfinished, 1


def longest_first(tasks: list[Task]) -> list[Task]:
    """The tasks with the convolutional networks' fits first, the rest in their order: a CNN's fit
    takes longer than all the others', and started last it would leave the other cores idle at
    the end (measured on a quiet 2-core AVX2 machine, 3 pairs alternating, `ladder run mnist1d
    --seeds 3`, whose six CNN fits come last in its file: 28.3-31.3 s before, 26.7-28.5 s with the
    CNNs first and scikit-learn imported by the workers' server, each pair 1.6-2.9 s faster)."""
    def kind(task: Task) -> str | None:
        return getattr(getattr(task.rung, "model", None), "kind", None)

    return sorted(tasks, key=lambda task: kind(task) not in CONVOLUTIONAL)


# -- threads of this process -------------------------------------------------------------------

def _release_freed_memory() -> None:
    """Hand the memory a finished task freed back to the system (glibc only; elsewhere nothing).

    glibc gives each thread an arena of its own and keeps what a task freed there for later, so
    two threads each hold on to a task's features after it is done (measured, `ladder run --out`
    on a 2-core machine: peak RSS 1.24-1.51 GB in two threads, 1.16-1.21 GB with a trim after each
    task, 1.10-1.13 GB in one process).
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):  # not glibc (macOS, musl, Windows)
        pass


TASK_THREAD = "ladder-task"


def tasks_running() -> bool:
    """Whether a thread of `run_threads` is still fitting (it goes on after Ctrl-C in the caller)."""
    return any(thread.name == TASK_THREAD and thread.is_alive() for thread in threading.enumerate())


def run_threads(tasks: list[Task], datasets: list, plan: RunPlan, listener) -> Iterator[tuple[Task, object]]:
    """Tasks in the plan's jobs as threads of this process, one CPU thread each; yields (task, result)
    as each ends.

    For runs on images. Threads share the dataset and start at once, where each worker process
    would hold a copy of MNIST of its own (measured on the 2-core reference machine: 2.21 GB peak
    in two processes, 1.13 GB in one). PyTorch and the BLAS compute without holding the GIL, so
    while one thread trains a CNN the other fits the linear models beside it (measured on a 2-core
    AVX2 machine, the full run's experiments: 121-125 s in one process, 77-87 s in two threads).
    One CPU thread each, because torch's thread count belongs to the process, not to a thread.
    The CNNs, the longest fits, start first, so that no core waits at the end for one to finish.
    The listener is called from the threads, as each task starts, ends an epoch and ends.
    The threads are daemons: Ctrl-C ends the run without waiting for a fit under way.
    """
    todo: queue.SimpleQueue = queue.SimpleQueue()
    done: queue.SimpleQueue = queue.SimpleQueue()
    for task in longest_first(tasks):
        todo.put(task)

    def work() -> None:
        budget.set_cap(1, plan.asked_threads)
        while True:
            try:
                task = todo.get_nowait()
            except queue.Empty:
                return
            epochs = task.rung.train.epochs if task.rung.train else None
            try:
                listener.rung_started(task.rung.name, task.seed, epochs)
                result = attempt(task, datasets[task.experiment], plan.device, listener)
                listener.rung_done(task.rung.name, task.seed, result)
            except BaseException as exc:  # a LadderError, or a listener's: raised in the main thread
                result = exc  # (a thread that died here would leave the main thread waiting forever)
            _release_freed_memory()
            done.put((task, result))

    with budget.threads(1):  # for every thread at once: each task's own setting then changes nothing
        for _ in range(min(plan.jobs, len(tasks))):
            threading.Thread(target=work, name=TASK_THREAD, daemon=True).start()
        try:
            for _ in tasks:
                task, result = done.get()
                if isinstance(result, BaseException):
                    raise result
                yield task, result
        finally:  # stopped early (Ctrl-C, a LadderError): the threads take no further task
            while True:
                try:
                    todo.get_nowait()
                except queue.Empty:
                    break


BACKENDS = ("serial", "local", "ray")


def check_backend(backend: str, address: str | None) -> None:
    """A LadderError for an unknown backend, an address without ray, or ray asked for and not installed."""
    if backend not in BACKENDS:
        raise LadderError(f"--backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if address is not None and backend != "ray":
        raise LadderError(f"--address {address}: only the ray backend joins a cluster; add --backend ray")
    if backend == "ray":
        from .ray_executor import import_ray

        import_ray(loopback=address is None)


def execute(tasks: list[Task], datasets: list, plan: RunPlan, listener) -> Iterator[tuple[Task, object]]:
    """Run `tasks` where `plan` says (ladder.plan); yields (task, RungRun or Failed) as each ends."""
    if plan.executor == "ray":
        from .ray_executor import run_ray  # Ray is an optional extra, imported when asked for

        yield from run_ray(tasks, datasets, plan, listener)
    elif plan.executor == "threads":
        yield from run_threads(tasks, datasets, plan, listener)
    elif plan.executor == "workers":
        yield from run_workers(tasks, datasets, plan, listener)
    else:
        yield from run_serial(tasks, datasets, plan, listener)
