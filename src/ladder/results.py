"""results.json: the public record of a run (schema 1), built from the experiments' records, written atomically."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .atomic import write_atomic
from .errors import LadderError

SCHEMA = 1


def document(records: list[dict], *, seeds: list[int], device: str, date: str,
             timings: dict[str, float]) -> dict:
    """The whole results.json of a run: what ran, where, when, how long, and each experiment's record.

    `figures` starts empty: the outputs fill it (and each experiment's) when figures are drawn.
    """
    from . import __version__

    return {"schema": SCHEMA, "ladder_version": __version__, "device": device, "seeds": list(seeds),
            "date": date, "total_seconds": sum(timings.values()), "timings": timings,
            "figures": [], "experiments": records}


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
