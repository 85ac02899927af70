"""Playground sessions in worker processes, so that many learners' training uses every core.

A small network's SGD step is almost all PyTorch's per-operation overhead, run under the
interpreter lock: threads of one process share a single core however many there are (measured on
the 2-core reference machine: one server process managed about 56 epochs/s in all, whatever its
thread count). So each session lives in one worker process, one worker per usable core (at most
MAX_WORKERS), and the server only moves messages. A worker holds its sessions by id, trains each
with one thread (the compute budget of the rest of ladder), and hands back encoded JSON text.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .. import budget
from ..executors import worker_context
from .protocol import encode
from .session import Session
from .settings import Limits

MAX_WORKERS = 8
#: The seconds between two frames of a playing session are kept between these (30 frames a second
#: is the aim, they leave a margin): it trains fewer batches between two frames when they come
#: further apart than MAX_GAP, more when they come closer than MIN_GAP; in between it keeps its pace.
MAX_GAP, MIN_GAP = 1 / 34, 1 / 40


class WorkerStopped(RuntimeError):
    """The worker process that held a session died (killed, or out of memory)."""


class Pace:
    """How many batches a playing session trains between two frames: as many as keep its frames coming.

    Measured from the frames themselves (the time between two), so it follows whatever the
    machine has to spare: alone, a session trains a whole epoch per frame; beside seven others
    on two cores, a few batches. More when frames come fast enough, fewer (at least one) when not.
    Only what is shown depends on timing; the training does not (Session.advance).
    """

    def __init__(self, limits: Limits | None = None):
        self.batches, self.last = 1, None
        # The server never asks for frames closer than its own limit allows: aim above that.
        fastest = 1 / (limits or Limits()).max_steps_per_second
        self.max_gap, self.min_gap = max(MAX_GAP, 1.25 * fastest), max(MIN_GAP, 1.05 * fastest)

    def next(self, now: float) -> int:
        gap = None if self.last is None else now - self.last
        self.last = now
        if gap is None or gap > 1.0:  # the first frame, or the first after a pause
            return self.batches
        if gap > self.max_gap:
            self.batches = max(1, int(self.batches * 0.7))
        elif gap < self.min_gap:
            self.batches += max(1, self.batches // 4)
        return self.batches


# -- inside a worker ----------------------------------------------------------------------------
_sessions: dict[int, Session] = {}
_paces: dict[int, Pace] = {}
_thread_budget = contextlib.ExitStack()


def _start_worker() -> None:
    # One thread for these small nets, held for the worker's life: applying the budget costs
    # about 2.6 ms, more than a piece of an epoch.
    _thread_budget.enter_context(budget.threads(1))
    from . import warm  # noqa: F401 - already imported when this worker was forked warm


def _open(sid: int, limits: Limits) -> tuple[dict, str, str]:
    session = _sessions[sid] = Session(limits)
    _paces[sid] = Pace(limits)
    return session.settings, encode(session.points()), encode(session.frame())


def _apply(sid: int, message: dict) -> tuple[list[str], str, bool]:
    session = _sessions[sid]
    replies = [encode(reply) for reply in session.apply(message)]
    return replies, encode(session.frame()), session.playing


def _tick(sid: int) -> tuple[str, bool]:
    """Train the session until its next frame is due, then draw that frame (paused: only draw it)."""
    session, pace = _sessions[sid], _paces[sid]
    if not session.playing:  # a pause, step or reset came in since this tick was asked for
        return encode(session.frame()), False
    session.advance(pace.next(time.perf_counter()))
    pace.batches = min(pace.batches, session.batches_per_epoch)
    return encode(session.frame()), session.playing


def _inputs(sid: int):
    """What the course's comparison needs: the session's data and settings."""
    session = _sessions[sid]
    return session.data, dict(session.settings)


def _close(sid: int) -> None:
    _sessions.pop(sid, None)
    _paces.pop(sid, None)


def warm_up() -> None:
    """Start the forkserver now, importing ladder.play.warm, so the first session opens at once."""
    context = worker_context("ladder.play.warm")
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


# -- in the server ------------------------------------------------------------------------------
class Workers:
    """The worker processes; each new session goes to the one holding the fewest."""

    def __init__(self, n: int, limits: Limits):
        self.limits = limits
        warm_up()
        # A worker process starts with its first session and stays for the server's life.
        self.pools = [self._pool() for _ in range(max(1, min(n, MAX_WORKERS)))]
        self.sessions = [0] * len(self.pools)  # how many sessions each worker holds
        self.ids = itertools.count()

    @staticmethod
    def _pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(1, mp_context=worker_context("ladder.play.warm"),
                                   initializer=_start_worker)

    async def open(self) -> tuple["RemoteSession", tuple[dict, str, str]]:
        """A new session in the least busy worker, with its settings, data and first frame."""
        for attempt in range(2):  # a worker found dead is replaced: the second try gets a new one
            index = self.sessions.index(min(self.sessions))
            self.sessions[index] += 1
            remote = RemoteSession(self, index, next(self.ids))
            try:
                return remote, await remote.call(_open, self.limits)
            except WorkerStopped:
                await remote.close()
                if attempt:
                    raise
            except BaseException:
                await remote.close()
                raise

    def replace(self, index: int, broken: ProcessPoolExecutor) -> None:
        """A new worker in place of one that died; its sessions are gone with it."""
        if self.pools[index] is broken:  # the first of its sessions to notice replaces it
            self.pools[index], self.sessions[index] = self._pool(), 0
            broken.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        for pool in self.pools:
            pool.shutdown(wait=True, cancel_futures=True)


class RemoteSession:
    """The server's handle on a session that lives in a worker process."""

    def __init__(self, workers: Workers, index: int, sid: int):
        self.workers, self.index, self.sid = workers, index, sid
        self.pool = workers.pools[index]
        self.closed = False

    async def call(self, fn, *args):
        try:
            return await asyncio.wrap_future(self.pool.submit(fn, self.sid, *args))
        except BrokenProcessPool:
            self.workers.replace(self.index, self.pool)
            raise WorkerStopped("this session's worker process stopped (killed, or out of memory); "
                                "reload the page to start a new session") from None

    async def apply(self, message: dict) -> tuple[list[str], str, bool]:
        return await self.call(_apply, message)

    async def tick(self) -> tuple[str, bool]:
        return await self.call(_tick)

    async def inputs(self):
        return await self.call(_inputs)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.workers.pools[self.index] is self.pool:  # a replaced worker's count began anew
            self.workers.sessions[self.index] -= 1
        with contextlib.suppress(WorkerStopped, RuntimeError):  # RuntimeError: the pool shut down
            await self.call(_close)
