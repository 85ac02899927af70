"""A run's plan: where its tasks run, how many at a time, with how many threads, on which device.

Built once, from the command line (or from a library call's arguments), before any task runs,
then passed down unchanged: the runner hands it to the executor, the executor gives each task
its share. Nothing about how a run runs travels any other way (no environment variable set
inside the process, no module global).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import budget, data, experiments
from .errors import LadderError

#: Where tasks run: in turn in this process, in threads of this process (a run on images), in
#: worker processes, or as Ray tasks. `--backend` names the executor: serial, local (threads or
#: workers, as the run's data and size decide) or ray.
EXECUTORS = ("serial", "threads", "workers", "ray")


@dataclass(frozen=True)
class RunPlan:
    """How a run's tasks run, decided once."""
    executor: str = "serial"  # one of EXECUTORS
    jobs: int = 1  # tasks at a time
    threads: int | None = None  # the most CPU threads one task may use (its share of the free
    # cores); None: no cap, each task's fit samples the machine itself (ladder.budget)
    asked_threads: int | None = None  # --threads: each task's thread count instead of ladder's choice
    device: str = "cpu"  # resolved once: cpu, cuda or mps (auto only for a Ray cluster's own nodes)
    address: str | None = None  # the Ray cluster to join; None starts a local instance for the run


def plan_run(specs: list, datasets: list, n_seeds: int, jobs: int | str = 1, threads: int | None = None,
             backend: str = "local", address: str | None = None, device: str = "auto",
             cores: int | None = None) -> RunPlan:
    """The plan of a run of `specs` on `datasets` with `n_seeds` seeds each.

    `device` is auto (cuda, then mps, then cpu), cpu, cuda or mps: resolved here, once, and a
    LadderError if it is not there. `jobs` is a number or "auto" (one job per free core when there are more tasks than cores and
    enough training to share, ladder.budget.plan); `cores` are the free cores (by default every
    usable one); `threads` (--threads) sets each task's threads instead of ladder's choice.
    """
    from .devices import device_available, pick_device  # (PyTorch: imported once a run is planned)

    n_tasks = n_seeds * sum(len(spec.rungs) for spec in specs)
    work = parallel_work(specs, datasets, n_seeds)
    # Ray's start-up is paid whatever the size of the run: there, "auto" always spreads the tasks.
    asked_jobs = 1 if backend == "serial" else jobs if jobs == "auto" else int(jobs)
    n_jobs, per_job = budget.plan(n_tasks, asked_jobs, cores, work if backend == "local" else math.inf)
    resolved = pick_device(device)
    if not device_available(resolved):
        raise LadderError(f"--device {device}: no such device is visible here; use --device auto or cpu")
    # On a cluster "auto" is each node's own choice: this machine cannot see the nodes' GPUs.
    on_nodes = backend == "ray" and address is not None and device == "auto"
    return RunPlan(executor=runs_in(n_tasks, datasets, n_jobs, per_job, backend), jobs=n_jobs,
                   threads=per_job, asked_threads=threads, address=address,
                   device=device if on_nodes else resolved.type)


def runs_in(n_tasks: int, datasets: list, jobs: int = 1, threads: int | None = None,
            backend: str = "local") -> str:
    """Where `n_tasks` tasks run: "ray", "serial" (this process, one after another), "threads" (of
    this process: a run on images, one thread a job) or "workers" (processes)."""
    if backend == "ray":
        return "ray"
    if backend == "serial" or jobs <= 1 or n_tasks <= 1:
        return "serial"
    return "threads" if (threads or 1) == 1 and holds_images(datasets) else "workers"


def workers_likely(targets: list[str], n_seeds: int, jobs: str, backend: str, cores: int) -> bool:
    """Whether a run of `targets` (experiment names or files) will likely run its tasks in worker
    processes, guessed before the experiments are read (reading them imports PyTorch), so that
    `ladder run` can start the workers' server early: several seeds or jobs asked for, free
    cores, and no images (a run on images runs its jobs as threads). `plan_run` decides for sure."""
    if backend != "local" or cores < 2 or jobs == "1" or (jobs == "auto" and n_seeds < 2):
        return False
    return not any(data.is_image_dataset(experiments.dataset_name(t) or "") for t in targets)


def holds_images(datasets: list) -> bool:
    """Whether any dataset is images (MNIST): large arrays that worker processes would each copy."""
    return any(dataset.X_train.ndim == 3 for dataset in datasets)


CONVOLUTIONAL = {"cnn", "cnn1d"}  # model kinds whose training is convolutions


def parallel_work(specs: list, datasets: list, n_seeds: int) -> float:
    """The training that parallel jobs could share: Σ epochs × training points over the PyTorch
    rungs of every seed; unbounded when the run holds an image dataset.

    A run with images runs its jobs in threads of this process (executors.run_threads), which
    cost nothing to start; worker processes cost one or two seconds each, and only a run with
    enough training pays them back (budget.PARALLEL_WORK).
    """
    if holds_images(datasets):
        return math.inf
    # A convolution's sample pass costs 20-40 times a toy MLP's (MNIST-1D's 1-D CNN against the
    # toys' MLPs, measured): a run that trains one always has enough work to share.
    if any(r.model is not None and r.model.kind in CONVOLUTIONAL for spec in specs for r in spec.rungs):
        return math.inf
    return n_seeds * sum(r.train.epochs * len(dataset.X_train)
                         for spec, dataset in zip(specs, datasets) for r in spec.rungs if r.train is not None)
