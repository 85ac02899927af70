"""The compute budget: how many threads a task may use, applied around it and undone after.

Left alone, PyTorch and the BLAS/OpenMP pools start one spinning thread per core. For the small
models of the course every matmul is so short that those threads spend their time waiting for each
other, and as soon as another program wants a core they collapse (measured on the 2-core
reference machine: the toy parts 15.4 s alone, 51.8 s beside one busy core, 14.7 s with one
thread). So ladder chooses, here and nowhere else:

- one thread for every model without convolutions and for scikit-learn's solvers (MNIST: MLP
  784-128-10 0.49 s an epoch with one thread, 0.54 s with two; lbfgs 8.6 s with one, 12.2 s with
  two);
- up to every core it may use for convolutional networks on the CPU, the one place a second
  thread pays (SimpleCNN on MNIST: 6.25 s an epoch with one thread, 5.55 s with two); one for a
  network on a GPU, where the CPU only launches kernels;
- never more than the run's budget: the cores the process may use, less those that other
  programs were seen using when the run started, divided among parallel jobs.

`--threads N` (the run's plan), the `LADDER_THREADS` variable and the estimators' `n_threads`
override the choice.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

ENV_VAR = "LADDER_THREADS"

# The most threads the current task may use, and the count the run asked for (--threads), set
# by the executor around a task (or by a worker) from the run's plan.
_cap: ContextVar[int | None] = ContextVar("ladder_thread_cap", default=None)
_asked: ContextVar[int | None] = ContextVar("ladder_threads_asked", default=None)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _cpu_times() -> tuple[int, int, int]:
    """(idle, total, n_cpus) from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        lines = f.read().splitlines()
    fields = [int(v) for v in lines[0].split()[1:]]
    n_cpus = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
    return fields[3] + fields[4], sum(fields[:8]), n_cpus  # idle + iowait; user … steal


def idle_cores(sample_seconds: float = 0.2) -> int:
    """How many of the usable cores no other program is using now (at least 1).

    Sampled from /proc/stat while this process sleeps, so what is busy is somebody else's work.
    A core counts as busy from a quarter of its time on. Where /proc/stat does not exist every
    usable core is taken to be idle.
    """
    usable = usable_cores()
    try:
        idle0, total0, n_cpus = _cpu_times()
        time.sleep(sample_seconds)
        idle1, total1, _ = _cpu_times()
    except (OSError, ValueError, IndexError):
        return usable
    if total1 <= total0:
        return usable
    busy = (1 - (idle1 - idle0) / (total1 - total0)) * n_cpus
    return max(1, min(usable, int(usable - busy + 0.75)))


def requested_threads(n_threads: int | None = None) -> int | None:
    """An explicit thread count: `n_threads` if given, else the run's --threads, else
    $LADDER_THREADS, else None (ladder chooses)."""
    if n_threads is not None:
        if int(n_threads) < 1:
            raise ValueError(f"n_threads must be >= 1, got {n_threads}")
        return int(n_threads)
    if _asked.get() is not None:
        return _asked.get()
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{ENV_VAR}={value!r}: give a whole number of threads >= 1, or unset it")
    return int(value)


def threads_for(module=None, n_threads: int | None = None) -> int:
    """The threads one fit or prediction gets: one for models without convolutions, more for CNNs.

    `module` is the nn.Module being trained (None for a scikit-learn model); an explicit
    `n_threads` (or $LADDER_THREADS) wins over the policy, and the run's budget caps both.
    """
    asked = requested_threads(n_threads)
    cap = _cap.get()
    if asked is not None:
        return asked if cap is None else min(asked, cap)
    if not _has_convolutions(module) or _off_the_cpu(module):
        return 1  # (on a GPU the CPU only launches kernels: a second thread has nothing to do)
    # Outside a run (an estimator fitted in a notebook) nobody has sampled the machine: do it
    # here. Two threads beside a busy program are 5-10x slower than one (the OpenMP threads wait
    # for the one that lost its core): a 12,800-image SimpleCNN epoch at load 9.6 took 67-106 s
    # with two threads, 9-19 s with one.
    return max(1, cap if cap is not None else idle_cores(0.1))


def _has_convolutions(module) -> bool:
    if module is None:
        return False
    from torch import nn

    return any(isinstance(m, nn.modules.conv._ConvNd) for m in module.modules())


def _off_the_cpu(module) -> bool:
    return any(p.device.type != "cpu" for p in module.parameters())


@contextmanager
def budget(cores: int | None, asked: int | None = None) -> Iterator[int | None]:
    """Within this block no task uses more than `cores` threads (the run's share of the machine;
    None: no cap, each task samples the machine itself), and each uses `asked` threads (--threads)
    where given, instead of ladder's choice."""
    token, asked_token = _cap.set(None if cores is None else max(1, int(cores))), _asked.set(asked)
    try:
        yield _cap.get()
    finally:
        _asked.reset(asked_token)
        _cap.reset(token)


def set_cap(cores: int, asked: int | None = None) -> None:
    """Cap every later task of this thread at `cores` threads (a worker process's share), each
    using `asked` threads where given."""
    _cap.set(max(1, int(cores)))
    _asked.set(asked)


#: Training passes over samples (Σ epochs × training points of the PyTorch tasks) below which a
#: run stays in one process: a worker costs about 1.5 s to start (importing PyTorch's compiler
#: stack on its first optimizer step), more than a small run can win back (measured on the
#: 2-core reference machine: the toy parts with 3 seeds, about 10⁷ sample passes, 11.9 s in
#: one process and 9.3 s in two).
PARALLEL_WORK = 2_000_000


def plan(n_tasks: int, jobs: int | str = "auto", cores: int | None = None,
         work: float = float("inf")) -> tuple[int, int]:
    """(parallel jobs, threads per job) for `n_tasks` tasks of `work` sample passes on `cores` free cores.

    "auto" runs one job per free core when there are more tasks than cores and enough work to
    pay for starting the workers, else one job; the cores are shared out among the jobs, so
    together they never ask for more than the run's budget.
    """
    cores = cores if cores is not None else usable_cores()
    if jobs == "auto":
        jobs = cores if n_tasks > cores and work >= PARALLEL_WORK else 1
    jobs = max(1, min(int(jobs), max(n_tasks, 1)))
    return jobs, max(1, cores // jobs)


@contextmanager
def threads(n: int) -> Iterator[int]:
    """Run the block with `n` torch intra-op threads and `n` BLAS/OpenMP threads; restore after.

    The caller's settings come back afterwards, so a notebook user who chose their own thread
    count keeps it.
    """
    import torch
    from threadpoolctl import threadpool_limits

    saved = torch.get_num_threads()
    if saved != n:
        torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield n
    finally:
        if torch.get_num_threads() != saved:
            torch.set_num_threads(saved)
