"""The playground's web server: the page, and one WebSocket per session where the latest frame wins."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .. import budget
from .digit_service import DigitService
from .digits import DRAW_SIDE  # noqa: F401 - the page's drawing size, named here for the tests
from .protocol import MessageError, decode, encode
from .session import PlayError
from .settings import DEFAULTS, FEATURES, Limits
from .workers import RemoteSession, Workers, WorkerStopped

STATIC = Path(__file__).parent / "static"
MAX_MESSAGE = 2_000_000  # characters; a CSV file (1 MB at most) fits with room to spare
log = logging.getLogger("ladder.play")


class Connection:
    """One browser tab: its session (in a worker process), an outbox for replies, and one slot for the latest frame."""

    def __init__(self, ws: WebSocket, session: RemoteSession | None, app_state):
        self.ws, self.session, self.state = ws, session, app_state  # session: set once it opens
        self.outbox: deque[str] = deque(maxlen=64)
        self.frame: str | None = None
        self.wake = asyncio.Event()
        self.lock = asyncio.Lock()  # one job at a time on this session, from any task
        self.playing = False  # as the session last said, under the lock
        self.player: asyncio.Task | None = None
        self.close_code: int | None = None  # set: close the socket once everything queued is sent

    def push(self, text: str) -> None:
        self.outbox.append(text)
        self.wake.set()

    def show(self, frame: str) -> None:
        self.frame = frame  # replaces an unsent frame: a slow client skips states, never lags
        self.wake.set()

    async def run(self) -> None:
        sender = asyncio.create_task(self._send())
        try:
            await self._receive()
        finally:
            if self.player is not None:
                self.player.cancel()
            if self.close_code is None:
                sender.cancel()
            else:  # let it send what is queued (the error that says why) and close the socket
                with contextlib.suppress(Exception):
                    await sender

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
        while self.close_code is None:
            event = await self.ws.receive()
            if event["type"] == "websocket.disconnect":
                return
            await self._safely(self._handle(event.get("text") if event.get("text") is not None
                                            else event.get("bytes")))

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

    async def _handle(self, text) -> None:
        message = decode(text, MAX_MESSAGE)
        kind = message["type"]
        if kind == "digits":
            self.state.digits.subscribe(self.push)
        elif kind in ("digit", "conv"):
            await self._digit(message)
        elif kind == "compare":
            # Fitted here, in a thread, so the other sessions of the worker train on meanwhile.
            from .compare import compare
            async with self.lock:
                data, settings = await self.session.inputs()
            loop = asyncio.get_running_loop()
            self.push(encode(await loop.run_in_executor(self.state.executor, compare, data, settings)))
        else:
            async with self.lock:
                replies, frame, self.playing = await self.session.apply(message)
            for reply in replies:
                self.push(reply)
            self.show(frame)
            if self.playing and (self.player is None or self.player.done()):
                self.player = asyncio.create_task(self._play())

    async def _digit(self, message: dict) -> None:
        digits = self.state.digits.digits
        if digits is None:
            self.state.digits.subscribe(self.push)
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
        connection.session, (settings, points, frame) = await state.workers.open()
        connection.push(encode({"type": "hello", "settings": settings, "defaults": DEFAULTS,
                                "features": list(FEATURES), "limits": vars(state.limits)}))
        connection.push(points)
        connection.show(frame)
        await connection.run()
    except WebSocketDisconnect:
        pass
    finally:
        state.connections.discard(connection)
        if connection.session is not None:
            await connection.session.close()  # the session, its network and data go with it


async def index(request):
    return FileResponse(STATIC / "index.html", headers=HEADERS)

# Everything the page needs comes from this server: the browser is told to fetch nothing else.
HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; connect-src 'self'",
           "Cache-Control": "no-cache"}


def create_app(digits: DigitService | None = None, limits: Limits | None = None, max_sessions: int = 16,
               workers: int | None = None) -> Starlette:
    """The app: `/` the page, `/static/…` its files, `/ws` one WebSocket per session.

    Sessions train in `workers` processes (default: one per usable core, at most 8).
    """
    @contextlib.asynccontextmanager
    async def lifespan(app):
        # One thread for the digit models and the comparisons, as for every small net in ladder;
        # held for the server's life because applying it costs about 2.6 ms.
        pool = Workers(workers or budget.usable_cores(), app.state.limits)
        try:
            with budget.threads(1), ThreadPoolExecutor(2, "ladder-play") as executor, \
                    ThreadPoolExecutor(1, "ladder-digit") as digit_executor:
                app.state.executor, app.state.digit_executor, app.state.workers = executor, digit_executor, pool
                yield
        finally:
            pool.shutdown()

    app = Starlette(routes=[Route("/", index), Mount("/static", StaticFiles(directory=STATIC)),
                            WebSocketRoute("/ws", play_socket)], lifespan=lifespan)
    app.state.digits = digits or DigitService()
    app.state.limits = limits or Limits()
    app.state.max_sessions = max_sessions
    app.state.connections = set()
    return app


def serve(host: str, port: int, models_dir: Path | None, open_browser: bool, console) -> None:
    """Run the playground until Ctrl-C; the digit models' training shows a bar in the terminal."""
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

    app = create_app(DigitService(models_dir, terminal=terminal))
    # An oversized message up to twice the limit still gets its error reply; beyond, the socket
    # closes. No per-message compression: frames are mostly base64 grids, which deflate barely
    # shrinks, and compressing 30 of them a second per session took a quarter of the server's time.
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           ws_max_size=2 * MAX_MESSAGE, ws_per_message_deflate=False))
    url = f"http://{host}:{port}/"

    def announce():
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            console.print(f"ladder play: {url}  (Ctrl-C stops it)")
            if open_browser:
                webbrowser.open(url)
    threading.Thread(target=announce, daemon=True).start()
    server.run()
