"""The ray executor (`--backend ray`): each rung × seed task is a Ray task, on a local instance or on a cluster.

Ray is an optional extra (`pip install 'ladder[ray]'`) and is imported only here, only when a
run asks for it, so `ladder --help` stays fast. Each dataset goes into the object store once
(`ray.put`) and every task of that experiment reads the same copy. Each task asks for the CPUs
of its share of the compute budget (or a GPU) and runs under that budget, as a local worker does.
"""

from __future__ import annotations

import os
import socket
from typing import Iterator

from . import budget
from .task import Failed, Task, attempt, describe, report_done
from .errors import LadderError

INSTALL = "the ray backend needs Ray: pip install 'ladder[ray]'"

#: A task whose worker died (a node lost, say) runs once more before it is marked failed: tasks
#: are pure and seeded, so a second run gives the same record.
RETRIES = 1


def import_ray(loopback: bool = True):
    """The ray module, or a LadderError saying how to install it."""
    if loopback:
        # A ladder-started instance serves this machine only: Ray then binds every port to
        # 127.0.0.1 instead of the machine's public address (read once, when ray is imported).
        # Not when joining a cluster, whose nodes must reach this driver.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise LadderError(INSTALL) from None
    return ray


def check_address(address: str) -> None:
    """A LadderError unless something answers at host:port (Ray itself would retry for minutes)."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=10).close()
    except (OSError, ValueError) as exc:
        raise LadderError(f"--address {address}: no Ray cluster answers there ({describe(exc)}); "
                          f"give auto, HOST:PORT or ray://HOST:PORT of a running cluster") from None


def connect(ray, address: str | None, cpus: int) -> bool:
    """Join the cluster at `address`, or start a local instance of `cpus` CPUs; True if ladder started it.

    A Ray the caller already started (a notebook, the tests) is used as it is and left running.
    """
    if address is not None:
        check_address(address)
    if ray.is_initialized():
        return False
    quiet = {"log_to_driver": False, "configure_logging": False}
    if address is None:
        ray.init(address="local", num_cpus=cpus, include_dashboard=False, **quiet)
        return True
    try:
        ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise LadderError(f"--address {address}: cannot join that Ray cluster ({describe(exc)})") from None
    return True


def _ray_task(task: Task, dataset, device: str, threads: int, asked_threads: int | None):
    """What runs on a Ray worker: one rung × seed under the task's share of the budget."""
    with budget.budget(threads, asked_threads):
        return attempt(task, dataset, device)


def _outcome(ray, ref):
    """A finished task's RungRun or Failed; a LadderError raised in the task stops the run."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        if isinstance(exc.cause, LadderError):
            raise exc.cause from None
        return Failed(describe(exc.cause or exc))
    except ray.exceptions.RayError as exc:  # the worker or its node died
        return Failed(describe(exc))


def _gpus(ray, device: str) -> float:
    """A whole GPU per task when the run is on cuda (or auto, on a cluster that has GPUs)."""
    if device == "cuda" or (device == "auto" and ray.cluster_resources().get("GPU", 0) > 0):
        return 1
    return 0


def run_ray(tasks: list[Task], datasets: list, plan, listener) -> Iterator[tuple[Task, object]]:
    """Every task as a Ray task of the plan's threads in CPUs; yields (task, RungRun or Failed) as
    each ends.

    Without the plan's address a local instance of jobs × threads CPUs is started and stopped
    after. On Ctrl-C (or any error) the pending tasks are cancelled.
    """
    ray = import_ray(loopback=plan.address is None)
    threads = plan.threads or 1
    started = connect(ray, plan.address, plan.jobs * threads)
    pending: dict = {}
    try:
        refs = [ray.put(dataset) for dataset in datasets]  # once each, not once per task
        remote = ray.remote(_ray_task).options(num_cpus=threads, num_gpus=_gpus(ray, plan.device),
                                               max_retries=RETRIES)
        pending = {remote.remote(task, refs[task.experiment], plan.device, threads, plan.asked_threads): task
                   for task in tasks}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                yield report_done(listener, pending.pop(ref), _outcome(ray, ref))
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()
