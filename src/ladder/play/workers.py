"""Playground sessions in worker processes, so that many learners' training uses every core.

A small network's SGD step is almost all PyTorch's per-operation overhead, run under the
interpreter lock: threads of one process share a single core however many there are (measured on
the 2-core reference machine: one server process managed about 56 epochs/s in all, whatever its
thread count). So each session lives in one worker process, one worker per usable core (at most
MAX_WORKERS), and the server only moves messages. A worker holds its sessions by id, trains each
with one thread (the compute budget of the rest of ladder), and hands back encoded JSON text.

A worker is a process with two pipes of its own, whose other ends only that process holds: the
server sends (id, job, session, arguments) down one and the worker answers (id, ok, value) up the
other. The server learns of a
worker's death from the process itself (its sentinel) and from the pipe's end, whatever half a
message the pipe still holds, and fails every request that worker had at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .. import budget
from ..executors import worker_context
from .compare import compare
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


class Stopped(Exception):
    """A comparison whose session closed, stopped between two epochs."""


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
_stops: dict[int, threading.Event] = {}  # set: the session closed, its comparison stops
_thread_budget = contextlib.ExitStack()


def _open(sid: int, limits: Limits, settings: dict | None = None) -> tuple[dict, str, str]:
    session = _sessions[sid] = Session(limits, **(settings or {}))
    _paces[sid], _stops[sid] = Pace(limits), threading.Event()
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


def _close(sid: int) -> None:
    _sessions.pop(sid, None)
    _paces.pop(sid, None)
    stop = _stops.pop(sid, None)
    if stop is not None:
        stop.set()


def _comparison(sid: int):
    """The course's comparison on the session's data and settings as they are now, to run in a
    thread: it fits for seconds (ten for the largest network), and checks between two epochs
    whether its session has closed."""
    session, stop = _sessions[sid], _stops[sid]
    data, settings = session.data, dict(session.settings)

    def until_closed(epoch, history, model):
        if stop.is_set():
            raise Stopped
    return lambda: encode(compare(data, settings, callback=until_closed))


JOBS = {"open": _open, "apply": _apply, "tick": _tick, "close": _close}


def _serve(requests, answers, limits: Limits) -> None:
    """A worker process: answer the server's requests until the server's end of the pipe closes."""
    # Ctrl-C reaches every process of the terminal's group: the server ends its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One thread for these small nets, held for the worker's life: applying the budget costs
    # about 2.6 ms, more than a piece of an epoch.
    _thread_budget.enter_context(budget.threads(1))
    from . import warm  # noqa: F401 - already imported when this worker was forked warm
    sending = threading.Lock()  # the comparisons' thread answers too

    def answer(rid: int, ok: bool, value) -> None:
        with sending, contextlib.suppress(OSError):  # OSError: the server is gone
            try:
                answers.send((rid, ok, value))
            except Exception as exc:  # noqa: BLE001 - an exception that does not pickle: its text does
                answers.send((rid, False, RuntimeError(f"{type(value).__name__}: {value} ({exc})")))

    def run(rid: int, job) -> None:
        try:
            answer(rid, True, job())
        except Exception as exc:  # noqa: BLE001 - the server decides what an exception means
            answer(rid, False, exc)

    # Comparisons run beside the training, one at a time, so the worker's sessions keep their frames.
    with ThreadPoolExecutor(1, "ladder-compare") as comparisons:
        while True:
            try:
                rid, job, sid, args = requests.recv()
            except (EOFError, OSError):  # the server has gone: so does this worker, comparisons too
                for stop in _stops.values():
                    stop.set()
                return
            if job == "compare":
                try:
                    comparisons.submit(run, rid, _comparison(sid))
                except Exception as exc:  # noqa: BLE001
                    answer(rid, False, exc)
            else:
                run(rid, lambda: JOBS[job](sid, *args))


def preloaded_context():
    """The workers' multiprocessing context, its forkserver importing this module (and with it the
    comparison's scikit-learn) and ladder.play.warm, which trains a session once."""
    worker_context("ladder.play.workers")
    return worker_context("ladder.play.warm")


def warm_up() -> None:
    """Start the forkserver now, importing ladder.play.warm, so the first session opens at once."""
    context = preloaded_context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


# -- in the server ------------------------------------------------------------------------------
STOPPED = ("this session's worker process stopped (killed, or out of memory); "
           "reload the page to start a new session")


class Worker:
    """One worker process, seen from the server: requests go out by id, answers come back in any order."""

    def __init__(self, limits: Limits, on_death):
        context = preloaded_context()
        requests, self.requests = context.Pipe(duplex=False)
        self.answers, answers = context.Pipe(duplex=False)
        self.process = context.Process(target=_serve, args=(requests, answers, limits), name="ladder-play-worker",
                                       daemon=True)  # daemon: ended by Python's exit, whatever stopped the server
        self.process.start()
        requests.close()  # the worker now holds the only other ends: its death ends the pipes
        answers.close()
        self.loop = asyncio.get_running_loop()
        self.on_death, self.stopped, self.sessions = on_death, False, 0
        self.waiting: dict[int, asyncio.Future] = {}
        self.ids = itertools.count()
        self.outgoing: queue.SimpleQueue = queue.SimpleQueue()  # sent by a thread: a full pipe never blocks the server
        self.loop.add_reader(self.process.sentinel, self._died)
        threading.Thread(target=self._write, name="ladder-play-write", daemon=True).start()
        threading.Thread(target=self._read, name="ladder-play-read", daemon=True).start()

    def post(self, job: str, sid: int, *args) -> int:
        """Send a request without waiting for its answer; its id."""
        rid = next(self.ids)
        self.outgoing.put((rid, job, sid, args))
        return rid

    async def call(self, job: str, sid: int, *args):
        """The answer to one request; WorkerStopped when the worker dies first."""
        if self.stopped:
            raise WorkerStopped(STOPPED)
        future = self.loop.create_future()
        rid = self.post(job, sid, *args)
        self.waiting[rid] = future
        try:
            return await future
        finally:
            self.waiting.pop(rid, None)

    def _write(self) -> None:
        while (request := self.outgoing.get()) is not None:
            try:
                self.requests.send(request)
            except (OSError, ValueError):  # the worker died
                break
        self.requests.close()  # here, by the one thread that uses it

    def _read(self) -> None:
        while True:
            try:
                rid, ok, value = self.answers.recv()
            except (EOFError, OSError):  # the worker's end closed: it died, even half-way through an answer
                break
            try:
                self.loop.call_soon_threadsafe(self._answer, rid, ok, value)
            except RuntimeError:  # the server's loop has closed
                break
        self.answers.close()
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._died)

    def _answer(self, rid: int, ok: bool, value) -> None:
        future = self.waiting.pop(rid, None)
        if future is not None and not future.done():
            future.set_result(value) if ok else future.set_exception(value)

    def _died(self) -> None:
        """The process ended (its sentinel, or its end of the pipe): fail its requests, have it replaced."""
        if self.stopped:
            return
        self.end()
        self.on_death(self)

    def end(self) -> None:
        """Stop the process (its sessions are lost) and fail every request still waiting."""
        if self.stopped:
            return
        self.stopped = True
        self.loop.remove_reader(self.process.sentinel)
        self.outgoing.put(None)
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(WorkerStopped(STOPPED))
        self.waiting.clear()
        if self.process.exitcode is None:
            self.process.kill()  # it holds nothing that needs saving: sessions live only in memory
        self.process.join(1)


class Workers:
    """The worker processes; each new session goes to the one holding the fewest."""

    def __init__(self, n: int, limits: Limits):
        self.limits = limits
        warm_up()
        self.all = [Worker(limits, self._replace) for _ in range(max(1, min(n, MAX_WORKERS)))]
        self.ids = itertools.count()

    @property
    def sessions(self) -> list[int]:
        """How many sessions each worker holds."""
        return [worker.sessions for worker in self.all]

    async def open(self, settings: dict | None = None) -> tuple["RemoteSession", tuple[dict, str, str]]:
        """A new session in the least busy worker, with its settings, data and first frame
        (`settings`: those it starts with instead of the defaults)."""
        for attempt in range(2):  # a worker that dies meanwhile is replaced: the second try gets a new one
            index = self.sessions.index(min(self.sessions))
            remote = RemoteSession(self.all[index], index, next(self.ids))
            try:
                return remote, await remote.call("open", self.limits, settings)
            except WorkerStopped:
                remote.close()
                if attempt:
                    raise
            except BaseException:
                remote.close()
                raise

    def _replace(self, dead: Worker) -> None:
        """A new worker in place of one that died; its sessions are gone with it."""
        self.all[self.all.index(dead)] = Worker(self.limits, self._replace)

    def shutdown(self) -> None:
        for worker in self.all:
            worker.end()


class RemoteSession:
    """The server's handle on a session that lives in a worker process."""

    def __init__(self, worker: Worker, index: int, sid: int):
        self.worker, self.index, self.sid = worker, index, sid
        worker.sessions += 1
        self.closed = False

    async def call(self, job: str, *args):
        return await self.worker.call(job, self.sid, *args)

    async def apply(self, message: dict) -> tuple[list[str], str, bool]:
        return await self.call("apply", message)

    async def tick(self) -> tuple[str, bool]:
        return await self.call("tick")

    async def compare(self) -> str:
        """The course's comparison on this session's data, as an encoded message."""
        return await self.call("compare")

    def close(self) -> None:
        """Drop the session in its worker, and stop its comparison; nothing to wait for."""
        if self.closed:
            return
        self.closed = True
        self.worker.sessions -= 1
        if not self.worker.stopped:
            self.worker.post("close", self.sid)
