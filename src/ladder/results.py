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


# -- what the claims of a run say, for the terminal, the report and the records ----------------
def stand_in(data: dict) -> str | None:
    """Why an experiment's claims were not checked: its dataset stood in for the one they were
    written for ("mnist was not available; ran on digits in its place"), or None."""
    if not data.get("fallback_for"):
        return None
    return f"{data['fallback_for']} was not available; ran on {data['name']} in its place"


def tally(claims_: list[dict]) -> tuple[int, int, int]:
    """(hold, fail, not checked) among claim records; "holds" is None for one not checked."""
    hold = sum(c["holds"] is True for c in claims_)
    unchecked = sum(c["holds"] is None for c in claims_)
    return hold, len(claims_) - hold - unchecked, unchecked


def claims_line(records: list[dict]) -> str:
    """"12/12 claims hold", or, when some could not be checked, "12/12 claims checked hold; 25 not
    checked: mnist was not available; ran on digits in its place"."""
    hold, fail, unchecked = tally([c for r in records for c in r["claims"]])
    if not unchecked:
        return f"{hold}/{hold + fail} claims hold"
    why = "; ".join(dict.fromkeys(filter(None, (stand_in(r["dataset"]) for r in records))))
    return f"{hold}/{hold + fail} claims checked hold; {unchecked} not checked: {why}"
