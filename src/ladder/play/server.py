"""The playground's web server: the page, and one WebSocket per session where the latest frame wins.

A session's messages wait in a short queue of their own, read off the socket as they come, so a
client that leaves is noticed at once and what it left unanswered is dropped with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .. import budget
from ..executors import stop_worker_server
from .digit_service import DigitService
from .digits import DRAW_SIDE  # the page's drawing size, named here for the tests too
from .protocol import CLIENT_TYPES, NETWORK_TYPES, SESSION_TYPES, MessageError, decode, encode, grid
from .session import PlayError
from .settings import DEFAULTS, FEATURES, Limits
from .workers import RemoteSession, Workers, WorkerStopped

STATIC = Path(__file__).parent / "static"
MAX_MESSAGE = 2_000_000  # characters; a CSV file (1 MB at most) fits with room to spare
#: Past this many bytes a message closes the socket with 1009 before the server reads it; between
#: MAX_MESSAGE and this it is read and answered with an error.
CLOSING_SIZE = 2 * MAX_MESSAGE
#: Session messages (set, play, pause, step, reset, csv) waiting to be handled, at most; past it a
#: message is dropped and the client told. A page waits for each answer, so it never comes near.
MAX_WAITING = 32
#: Unsent bytes a socket keeps, about one frame, in the kernel (TCP_NOTSENT_LOWAT) and again in the
#: server's own write buffer: a client on a slow link is sent the newest frame when it can take
#: one, not a backlog (measured without them: 3.3 MB, 188 frames, for a client that stopped reading
#: for 10 s; with the kernel's bound alone, 8 frames).
UNSENT_BYTES = 16_384
log = logging.getLogger("ladder.play")


class Latest:
    """One job at a time; of those asked for meanwhile, only the newest waits (a redrawn digit, a
    second "compare"): a flood of them is one job running and one waiting."""

    def __init__(self, run):
        self.run, self.next, self.task = run, None, None

    def ask(self, argument) -> None:
        self.next = (argument,)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._work())

    async def _work(self) -> None:
        while self.next is not None:
            (argument,), self.next = self.next, None
            await self.run(argument)


class Connection:
    """One browser tab: its session (in a worker process), its waiting messages, an outbox for
    replies, and one slot for the latest frame."""

    def __init__(self, ws: WebSocket, session: RemoteSession | None, app_state):
        self.ws, self.session, self.state = ws, session, app_state  # session: set once it opens
        self.outbox: deque[str] = deque(maxlen=64)
        self.frame: str | None = None
        self.wake = asyncio.Event()
        self.waiting: deque[dict] = deque()  # session messages not yet handled, oldest first
        self.has_work = asyncio.Event()
        self.lock = asyncio.Lock()  # one job at a time on this session, from any task
        self.playing = False  # as the session last said, under the lock
        self.player: asyncio.Task | None = None
        self.comparisons = Latest(lambda _: self._safely(self._compare()))
        self.drawings = Latest(lambda message: self._safely(self._predict(message)))
        self.convolutions = Latest(lambda message: self._safely(self._predict(message)))
        self.subscribed = False  # to the digit models' progress
        self.close_code: int | None = None  # set: close the socket once everything queued is sent

    def push(self, text: str) -> None:
        self.outbox.append(text)
        self.wake.set()

    def show(self, frame: str) -> None:
        self.frame = frame  # replaces an unsent frame: a slow client skips states, never lags
        self.wake.set()

    async def run(self) -> None:
        """Until the client leaves or the socket is closed; then everything it asked for is dropped."""
        sender = asyncio.create_task(self._send())
        receiver = asyncio.create_task(self._receive())
        worker = asyncio.create_task(self._work())
        try:
            await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:  # cancelled, not awaited: the server may be cancelling this task itself
            for task in (receiver, worker, self.player, self.comparisons.task, self.drawings.task,
                         self.convolutions.task, sender):
                if task is not None:
                    task.cancel()

    async def _send(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.outbox:
                await self.ws.send_text(self.outbox.popleft())
            if self.frame is not None:
                frame, self.frame = self.frame, None
                await self.ws.send_text(frame)
            if self.close_code is not None:
                await self.ws.close(code=self.close_code)
                return

    async def _receive(self) -> None:
        """Read every message as it comes: checked, answered or queued, never waited on here."""
        while True:
            event = await self.ws.receive()
            if event["type"] == "websocket.disconnect":
                return
            try:
                self._take(decode(event.get("text") if event.get("text") is not None else event.get("bytes"),
                                  MAX_MESSAGE))
            except MessageError as exc:
                self.push(encode({"type": "error", "message": str(exc)}))

    def _take(self, message: dict) -> None:
        kind = message["type"]
        if kind in SESSION_TYPES or kind in NETWORK_TYPES:
            self._queue(message)
        elif kind == "compare":
            self.comparisons.ask(None)
        elif kind == "digit":
            self._drawing(message)  # a blank or malformed drawing is answered at once
            self.drawings.ask(message)
        elif kind == "conv":
            self._drawing(message)
            self.convolutions.ask(message)
        elif kind == "digits":
            self._digits()
        else:
            raise MessageError(f"unknown message type {kind!r}; send one of: {', '.join(CLIENT_TYPES)}")

    def _queue(self, message: dict) -> None:
        last = self.waiting[-1] if self.waiting else None
        if (last is not None and message["type"] == last["type"] == "set"
                and isinstance(message.get("settings"), dict) and isinstance(last.get("settings"), dict)):
            self.waiting[-1] = {"type": "set", "settings": {**last["settings"], **message["settings"]}}
        elif last is not None and {message["type"], last["type"]} <= {"play", "pause"}:
            self.waiting[-1] = message  # the latest of play and pause wins
        elif len(self.waiting) >= MAX_WAITING:
            raise MessageError(f"too many messages waiting ({MAX_WAITING}); this {message['type']!r} was "
                               "dropped: wait for the replies before sending more")
        else:
            self.waiting.append(message)
        self.has_work.set()

    async def _work(self) -> None:
        while True:
            await self.has_work.wait()
            self.has_work.clear()
            while self.waiting:
                await self._safely(self._apply(self.waiting.popleft()))

    async def _safely(self, work) -> bool:
        """Await `work`; what goes wrong becomes an error message (and False), never the server's end."""
        try:
            await work
            return True
        except (MessageError, PlayError) as exc:
            self.push(encode({"type": "error", "message": str(exc)}))
        except WorkerStopped as exc:  # the session is gone: say so, then close the socket
            self.playing = False
            self.push(encode({"type": "error", "message": str(exc)}))
            self.close_code = 1011
        except Exception:  # noqa: BLE001 - a bug must not end the server or this session
            log.exception("play: a message failed")
            self.push(encode({"type": "error", "message": "internal error; the server log has details"}))
        return False

    async def _apply(self, message: dict) -> None:
        async with self.lock:
            replies, frame, self.playing = await self.session.apply(message)
        for reply in replies:
            self.push(reply)
        self.show(frame)
        if self.playing and (self.player is None or self.player.done()):
            self.player = asyncio.create_task(self._play())

    async def _compare(self) -> None:
        # In the session's worker, in a thread of its own there: the worker's sessions train on.
        self.push(await self.session.compare())

    def _digits(self) -> None:
        """Send the digit models' state now, and their progress while they load (subscribed once)."""
        service = self.state.digits
        if not self.subscribed or service.digits is not None or service.error is not None:
            self.subscribed = True
            service.subscribe(self.push)

    def _drawing(self, message: dict):
        pixels = grid(message.get("pixels"), DRAW_SIDE)
        if not pixels.any():
            raise MessageError("the drawing is blank: draw a digit first")
        return pixels

    async def _predict(self, message: dict) -> None:
        """A "digit" message's predictions and the chosen CNN's layers, or a "conv" message's dot
        product, computed in the digit models' thread."""
        digits = self.state.digits.digits
        if digits is None:
            self._digits()
            raise PlayError("the digit models are still loading; the page shows their progress")
        loop = asyncio.get_running_loop()
        if message["type"] == "conv":
            reply = await loop.run_in_executor(self.state.digit_executor, digits.convolution, message)
        else:
            pixels, model, move = digits.request(message)
            reply = await loop.run_in_executor(self.state.digit_executor, digits.predict, pixels, model, move)
        self.push(encode(reply))

    async def _play(self) -> None:
        """Frame after frame while playing, at most max_steps_per_second: each a piece of an epoch, or a whole one.

        It reads `self.playing` afresh each time round, so a pause and a play that both come in
        while it waits for its next frame leave it playing.
        """
        loop = asyncio.get_running_loop()
        interval = 1 / self.state.limits.max_steps_per_second
        while self.playing:
            started = loop.time()
            if not await self._safely(self._tick()):
                self.playing = False  # one error message, not one a frame
            await asyncio.sleep(max(0.0, interval - (loop.time() - started)))

    async def _tick(self) -> None:
        async with self.lock:
            frame, self.playing = await self.session.tick()
        self.show(frame)


async def play_socket(ws: WebSocket) -> None:
    state = ws.app.state
    await ws.accept()
    if len(state.connections) >= state.max_sessions:
        await ws.send_text(encode({"type": "busy", "message": f"busy: {state.max_sessions} sessions are "
                                   "running, the most this server takes; try again in a while"}))
        await ws.close(code=1013)  # "try again later"
        return
    connection = Connection(ws, None, state)
    state.connections.add(connection)  # counted from now on, so the limit holds while it opens
    try:
        opening = state.opening or {}  # `ladder play --experiment`: that rung's settings, and notes
        connection.session, (settings, points, frame) = await state.workers.open(opening.get("settings"))
        connection.push(encode({"type": "hello", "settings": settings, "defaults": DEFAULTS,
                                "features": list(FEATURES), "limits": vars(state.limits),
                                **({"experiment": opening["experiment"]} if opening else {})}))
        connection.push(points)
        connection.show(frame)
        await connection.run()
    except WebSocketDisconnect:
        pass
    finally:
        state.connections.discard(connection)
        if connection.session is not None:
            connection.session.close()  # the session, its network, data and comparison go with it


async def index(request):
    return FileResponse(STATIC / "index.html", headers=HEADERS)

# Everything the page needs comes from this server: the browser is told to fetch nothing else.
HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; connect-src 'self'",
           "Cache-Control": "no-cache"}


def create_app(digits: DigitService | None = None, limits: Limits | None = None, max_sessions: int = 16,
               workers: int | None = None, opening: dict | None = None) -> Starlette:
    """The app: `/` the page, `/static/…` its files, `/ws` one WebSocket per session.

    Sessions train in `workers` processes (default: one per usable core, at most 8). `opening`
    (`ladder play --experiment`) is {"settings": …, "experiment": {"name": …, "notes": […]}}:
    every session starts with those settings, and its hello names the rung and the notes.
    """
    @contextlib.asynccontextmanager
    async def lifespan(app):
        # One thread for the digit models, as for every small net in ladder; held for the
        # server's life because applying it costs about 2.6 ms.
        pool = Workers(workers or budget.usable_cores(), app.state.limits)
        try:
            with budget.threads(1), ThreadPoolExecutor(1, "ladder-digit") as digit_executor:
                app.state.digit_executor, app.state.workers = digit_executor, pool
                yield
        finally:
            pool.shutdown()
            if app.state.ends_forkserver:
                # Asked to stop, it would exit through Python's own teardown: measured 7 s after
                # the server had gone, under load. Ended, it goes at once.
                stop_worker_server()

    app = Starlette(routes=[Route("/", index), Mount("/static", StaticFiles(directory=STATIC)),
                            WebSocketRoute("/ws", play_socket)], lifespan=lifespan)
    app.state.digits = digits or DigitService()
    app.state.limits = limits or Limits()
    app.state.max_sessions = max_sessions
    app.state.opening = opening
    app.state.connections = set()
    app.state.ends_forkserver = False  # True where this process serves nothing else (`ladder play`)
    return app


def listen(host: str, port: int) -> socket.socket:
    """The server's listening socket; OSError when the address cannot be had.

    SO_REUSEADDR: a server stopped a moment ago leaves its connections in TIME-WAIT on this port,
    and `ladder play` must start again at once (Ctrl-C, change, restart); a port that another
    server listens on is still refused. Connections accepted on it inherit UNSENT_BYTES.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "TCP_NOTSENT_LOWAT"):  # Linux and macOS
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT, UNSENT_BYTES)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def websocket_protocol():
    """uvicorn's WebSocket protocol, its write buffer held to UNSENT_BYTES: a frame is then sent
    only once the one before has left (asyncio's default lets 64 KB, four frames, wait)."""
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    except ImportError:  # uvicorn before 0.35: its default, and the kernel's bound alone
        return "auto"

    class FrameAtATime(WebSocketsSansIOProtocol):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            transport.set_write_buffer_limits(high=UNSENT_BYTES)
    return FrameAtATime


def serve(sock: socket.socket, host: str, models_dir: Path | None, open_browser: bool, console,
          opening: dict | None = None) -> None:
    """Run the playground on `sock` until Ctrl-C or SIGTERM; the digit models' training shows a bar
    in the terminal. Stopping closes every session (1012) and ends the workers within seconds."""
    import threading
    import webbrowser

    import uvicorn
    from rich.progress import Progress

    progress = Progress(console=console, transient=True)
    task = None

    def terminal(done, total, what):
        nonlocal task
        if task is None:
            progress.start()
            task = progress.add_task(what, total=total)
        progress.update(task, completed=done, description=what)
        if done >= total:
            progress.stop()

    app = create_app(DigitService(models_dir, terminal=terminal), opening=opening)
    app.state.ends_forkserver = True
    # An oversized message up to twice the limit still gets its error reply; beyond, the socket
    # closes. No per-message compression: frames are mostly base64 grids, which deflate barely
    # shrinks, and compressing 30 of them a second per session took a quarter of the server's time.
    # Sessions end as soon as their sockets close: the grace period only bounds a stop.
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           ws=websocket_protocol(), ws_max_size=CLOSING_SIZE,
                                           ws_per_message_deflate=False,
                                           timeout_graceful_shutdown=2))
    url = f"http://{host}:{port}/"

    def announce():
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            console.print(f"ladder play: {url}  (Ctrl-C stops it)")
            if opening:
                notes = "".join(f"; {note}" for note in opening["experiment"]["notes"])
                console.print(f"ladder play: the page opens {opening['experiment']['name']}{notes}", highlight=False)
            if open_browser and not webbrowser.open(url):
                console.print(f"no web browser could be opened here: open {url} in one")
    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn stops on Ctrl-C, then raises it again for the caller
        pass
    finally:  # a second Ctrl-C skips the app's shutdown: the workers end with Python (daemons), this with us
        stop_worker_server()
    console.print("ladder play: stopped")
