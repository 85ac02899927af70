"""results.json: the public record of a run (schema 1), written atomically."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

from .errors import LadderError

SCHEMA = 1


def prepare_out_dir(out: str | Path) -> Path:
    """Create the output folder up front, so an unwritable path fails before any training."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".ladder-probe-", delete=True)
        probe.close()
    except OSError as exc:
        raise LadderError(f"--out {out}: cannot write there ({exc.strerror or exc}); "
                          f"choose a folder you can write to") from None
    return out


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: readers see the old file or the new, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _finite(value):
    """JSON has no inf or NaN: a value that diverged is written as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_results(out: Path, results: dict) -> Path:
    """Write results.json (non-finite numbers as null), atomically."""
    path = Path(out) / "results.json"
    write_atomic(path, json.dumps(_finite(results), indent=1, allow_nan=False) + "\n")
    return path


def read_results(out: str | Path) -> dict:
    path = Path(out) / "results.json"
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LadderError(f"{path}: no results here; run `ladder run … --out {out}` first") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise LadderError(f"{path}: not a readable results file ({exc})") from None
    if not isinstance(results, dict) or results.get("schema") != SCHEMA:
        raise LadderError(f"{path}: expected results schema {SCHEMA}; re-run `ladder run` to regenerate it")
    return results
