"""The digit models, loaded or trained once per server in the background, shared by every session."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Callable

from .digits import Digits, MissingModels, cache_is_current, read_cnns, read_folder, train_and_cache
from .protocol import encode


def default_cache() -> Path:
    """Where trained digit models are kept: ladder's cache folder (pooch.os_cache("ladder"))."""
    import pooch

    return Path(pooch.os_cache("ladder")) / "play-digits"


class DigitService:
    """Reads `models_dir` (a run) or the cache, else trains once; tells every waiting session."""

    def __init__(self, models_dir: Path | None = None, cache: Path | None = None,
                 n_train: int | None = None, epochs: int | None = None,
                 terminal: Callable[[int, int, str], None] | None = None):
        self.models_dir, self.cache = models_dir, cache or default_cache()
        self.n_train, self.epochs, self.terminal = n_train, epochs, terminal
        self.digits: Digits | None = None
        self.error: str | None = None
        self._listeners: list[tuple[asyncio.AbstractEventLoop, Callable[[str], None]]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def subscribe(self, push: Callable[[str], None]) -> None:
        """Send `push` the "digits" message now if the models are ready, else once they are."""
        with self._lock:
            if self.digits is None and self.error is None:
                self._listeners.append((asyncio.get_running_loop(), push))
                if self._thread is None:
                    self._thread = threading.Thread(target=self._load, name="ladder-digits", daemon=True)
                    self._thread.start()
                return
        push(self._ready_message())

    def _ready_message(self) -> str:
        if self.error is not None:
            return encode({"type": "error", "message": self.error})
        return encode({"type": "digits", "ready": True, "templates": self.digits.templates(),
                       "cnns": self.digits.choices(), "default": self.digits.default})

    def _tell(self, text: str) -> None:
        for loop, push in list(self._listeners):
            try:
                loop.call_soon_threadsafe(push, text)
            except RuntimeError:  # that session's loop has closed: nobody left to tell
                pass

    def _progress(self, done: int, total: int, what: str) -> None:
        self._tell(encode({"type": "digits", "ready": False, "done": done, "total": total, "text": what}))
        if self.terminal is not None:
            self.terminal(done, total, what)

    def _from_cache(self) -> Digits | None:
        """The models trained on an earlier start; None when there are none, they do not load (a
        damaged file, or 8×8 models an older ladder trained without MNIST) or they were trained
        otherwise than mnist.toml says now: then they are trained again."""
        from safetensors import SafetensorError

        cached = list(self.cache.glob("mnist--*.safetensors"))
        if not cached:
            return None
        try:
            digits = Digits(read_folder(self.cache), read_cnns(self.cache))
            if cache_is_current(self.cache, self.n_train, self.epochs):
                return digits
            why = "were trained with other settings than mnist.toml's"
        except (OSError, ValueError, SafetensorError) as exc:
            why = f"do not load ({exc})"
        logging.getLogger("ladder.play").warning(
            "the cached digit models in %s %s: training them again", self.cache, why)
        for path in cached:  # so that the next start does not try them again
            path.unlink(missing_ok=True)
        return None

    def _part_4(self) -> Digits:
        return self._from_cache() or Digits(
            train_and_cache(self.cache, self._progress, self.n_train, self.epochs), read_cnns(self.cache))

    def _from_run(self) -> Digits:
        """A run's models; its every CNN in the picker. A run of the learner's own experiment file
        may hold CNNs only: part 4's linear model and MLP (and its CNN, listed too) stand beside them."""
        cnns = read_cnns(self.models_dir)
        try:
            return Digits(read_folder(self.models_dir), cnns)
        except MissingModels as missing:
            if "cnn" not in missing.found:
                raise
            found = missing.found
        part_4 = self._part_4()
        return Digits({**part_4.modules, "cnn": found["cnn"]}, {**part_4.cnns, **cnns})

    def _load(self) -> None:
        try:
            if self.models_dir is not None:
                self.digits = self._from_run()
            else:
                self.digits = self._part_4()
        except Exception as exc:  # noqa: BLE001 - any failure is told to the page, not raised in a thread
            self.error = f"the digit models could not be loaded: {exc}"
        with self._lock:
            message, listeners = self._ready_message(), self._listeners
            self._listeners = []
        for loop, push in listeners:
            try:
                loop.call_soon_threadsafe(push, message)
            except RuntimeError:
                pass
