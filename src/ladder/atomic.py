"""Writing a file so that readers see the old content or the new, never half of it.

Every temporary entry ladder makes (a file being written, a run's staging folder, the figures'
pickle) is named with its host and process id after its prefix: a process killed outright
(SIGKILL, the out-of-memory killer, a power cut) cannot clean up after itself, so the next one
that makes such an entry removes those whose process no longer exists.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path


def owned_prefix(prefix: str) -> str:
    """`prefix` followed by this host and process id, so a later process can tell whose it is."""
    return f"{prefix}{socket.gethostname()}-{os.getpid()}-"


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only whether the process exists is checked
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (PermissionError), or a pid out of range
        return True
    return True


def remove_abandoned(folder: Path, prefix: str) -> list[Path]:
    """Remove the entries of `folder` that `owned_prefix(prefix)` named in a process of this host
    that no longer exists; return them. Entries of other hosts (a shared folder) or of running
    processes stay, and so does anything that cannot be removed."""
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return []
    start = f"{prefix}{socket.gethostname()}-"
    removed = []
    try:
        names = [name for name in os.listdir(folder) if name.startswith(start)]
    except OSError:
        return []
    for name in names:
        pid = name[len(start):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _is_running(int(pid)):
            continue
        path = Path(folder) / name
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename it over `path`.

    The file gets the user's normal permissions (0666 less the umask), not mkstemp's 0600.
    """
    remove_abandoned(path.parent, f".{path.name}.")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=owned_prefix(f".{path.name}."), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content.encode("utf-8") if isinstance(content, str) else content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
