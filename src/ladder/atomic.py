"""Writing a file so that readers see the old content or the new, never half of it.

Every temporary entry ladder makes (a file being written, a run's staging folder, the figures'
pickle, a download) is locked (`flock`) by its process for as long as it is in use. A process
killed outright (SIGKILL, the out-of-memory killer, a power cut) cannot clean up after itself,
but the kernel drops its locks: the next process that makes such an entry removes those nobody
holds. A lock, not a process id, because a process id says nothing across containers (pid
namespaces) or hosts that share a folder. Where the file system has no locks (NFS without its
lock service) nothing is locked, and nothing is removed that could not be locked; on NFS, where
flock works as fcntl locks do, closing any other descriptor of a file drops its lock.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import stat
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock, and nothing is ever removed as abandoned
    fcntl = None


@contextlib.contextmanager
def held(path: Path | str, fd: int | None = None):
    """Hold a lock on the fresh entry `path` (a file or a folder; `fd` if it is open already)
    while the block runs: the sign that its owner is alive."""
    own = fd is None
    if own:
        fd = os.open(path, os.O_RDONLY)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:  # no locks on this file system (ENOLCK): it then cannot be removed either
                pass
        yield
    finally:
        if own:
            os.close(fd)  # closing drops the lock; so does the end of the process, however it ends


def remove_abandoned(folder: Path | str, prefix: str, suffix: str = "") -> list[Path]:
    """Remove the entries of `folder` named `prefix…suffix` that no process holds; return them.

    An entry is only removed while this process holds its lock, so its owner cannot take it back
    meanwhile. The one gap: an entry made in the instant between its creation and its owner's
    lock (two system calls) could be taken for abandoned.
    """
    if fcntl is None:
        return []
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(suffix)]
    except OSError:
        return []
    removed = []
    for name in names:
        path = Path(folder) / name
        try:
            mode = os.lstat(path).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):  # a link, a FIFO: never ladder's
                continue
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:  # held by a running process (BlockingIOError), or not ours to remove
            pass
        finally:
            os.close(fd)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename it over `path`.

    The file gets the user's normal permissions (0666 less the umask), not mkstemp's 0600.
    """
    prefix = f".{path.name}."
    remove_abandoned(path.parent, prefix, ".tmp")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f, held(tmp, f.fileno()):
            f.write(content.encode("utf-8") if isinstance(content, str) else content)
            f.flush()
            os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def pickled(obj, prefix: str):
    """`obj` pickled into a file in a fresh temporary folder named `prefix…` (for another process
    to read), removed at the end of the block; None where it cannot be pickled (an object of the
    user's own making) or the folder cannot take it (full, missing or not writable). The lock that
    marks the file in use is on its folder, so it does not keep a removed file's memory (tmpfs)."""
    try:
        remove_abandoned(tempfile.gettempdir(), prefix)  # left by a killed process
        folder = Path(tempfile.mkdtemp(prefix=prefix))
    except OSError:
        yield None
        return
    try:
        with held(folder):
            path = folder / "pickle"
            try:
                with open(path, "wb") as handle:
                    pickle.dump(obj, handle, protocol=pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, TypeError, AttributeError, OSError):
                path.unlink(missing_ok=True)  # a partial pickle goes at once
                yield None
                return
            yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)
