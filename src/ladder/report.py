"""report.html: one self-contained page from a run's folder.

Images are embedded as data: URIs, the CSS is inline and there is no script, so the single file
opens anywhere (a laptop, a phone, an e-mail attachment) with nothing fetched from the network.
Input is results.json and PNG files only; nothing is unpickled.
"""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from pathlib import Path

import jinja2

from . import full_picture
from .atomic import write_atomic
from .errors import LadderError
from .metrics import METRICS, columns, probe_columns, probed_on
from .results import claims_line, read_results, tally

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Dataset keys shown in their own words, not among the generator's parameters.
_DATASET_KEYS = {"name", "n_train", "n_test", "n_features", "fallback_for", "test_is_train", "note"}

FigureLoader = Callable[[str], bytes]


def write_report(out_dir: str | Path, results: dict | None = None) -> Path:
    """Render DIR/results.json (or `results`) and its figures into DIR/report.html, atomically.

    Raises LadderError for a missing or unreadable results.json and for a missing figure.
    """
    out_dir = Path(out_dir)
    if results is None:
        results = read_results(out_dir)
    html = render(results, out_dir)
    path = out_dir / "report.html"
    write_atomic(path, html)
    return path


def render(results: dict, figures: Path | FigureLoader) -> str:
    """The report as one HTML string.

    `figures` is the run's folder (figure files are paths relative to it) or a function that
    returns the PNG bytes of a figure file.
    """
    load = figures if callable(figures) else _folder_loader(Path(figures))
    records = results.get("experiments", [])
    experiments = [_experiment(e, load) for e in records]
    n_hold, n_fail, n_unchecked = tally([c for e in records for c in e.get("claims", [])])
    page = {
        "version": results.get("ladder_version", "?"),
        "device": results.get("device", "?"),
        "seeds": ", ".join(str(s) for s in results.get("seeds", [])),
        "n_seeds": len(results.get("seeds", [])),
        "date": results.get("date"),
        "date_text": _date(results.get("date")),
        "total_time": _duration(results.get("total_seconds")),
        "n_fail": n_fail, "n_unchecked": n_unchecked,
        "summary": claims_line(records),
        "experiments": experiments,
        "figures": [_figure(f, load) for f in results.get("figures") or []],
        # A run of one experiment has nothing to set beside it.
        "full_picture": full_picture.rows(records) if len(records) > 1 else [],
        "full_picture_headings": full_picture.HEADINGS,
    }
    return _template().render(page=page)


def _template() -> jinja2.Template:
    source = resources.files("ladder").joinpath("templates", "report.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env.from_string(source)


def _folder_loader(root: Path) -> FigureLoader:
    def load(file: str) -> bytes:
        path = root / file
        # A figure lives inside the run's folder; results.json cannot point the report elsewhere.
        if not path.resolve().is_relative_to(root.resolve()):
            raise LadderError(f"{root / 'results.json'}: figure {file!r} lies outside {root}; "
                              f"re-run `ladder run … --out {root}` to regenerate it")
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise LadderError(f"{path}: figure missing; re-run `ladder run … --out {root}` "
                              f"to regenerate it") from None
        except OSError as exc:
            raise LadderError(f"{path}: cannot read this figure ({exc.strerror or exc}); "
                              f"re-run `ladder run … --out {root}` to regenerate it") from None
    return load


def _figure(figure: dict, load: FigureLoader) -> dict:
    png = load(figure["file"])
    if not png.startswith(PNG_SIGNATURE) or len(png) < 24:
        raise LadderError(f"{figure['file']}: not a PNG image; re-run `ladder run … --out DIR` "
                          f"to regenerate it")
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk comes first in every PNG
    title = figure.get("title") or Path(figure["file"]).stem.replace("_", " ")
    return {"src": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "title": title, "caption": figure.get("caption") or "", "width": width, "height": height}


def _experiment(experiment: dict, load: FigureLoader) -> dict:
    task = experiment.get("task", "classification")
    rungs = experiment.get("rungs", [])
    shown = [(m.key, m.label) for m in columns(task)] + probe_columns(experiment)
    if any("final_loss" in r.get("metrics", {}) for r in rungs):
        shown.append(("final_loss", METRICS["final_loss"].label))
    claims = [_claim(c) for c in experiment.get("claims", [])]
    n_hold, n_fail, n_unchecked = tally(experiment.get("claims", []))
    notes = [f"{r['name']}: {note}" for r in rungs for note in r.get("notes", [])]
    probes = experiment.get("probes")
    if probes:
        on = probed_on(experiment)
        notes.insert(0, f"Moved digits: →N px is shifted N pixels to the right, ↻N° turned N degrees; "
                        f"scored on {on}.")
    notes += [f"{r['name']} {r['status']}{f' at epoch {e}' if (e := r.get('epoch')) else ''} "
              f"(seed {r.get('seed')}): {r.get('reason')}" for r in rungs if r.get("status", "ok") != "ok"]

    return {
        "name": experiment["name"],
        "title": experiment.get("title") or experiment["name"],
        "story": _paragraphs(experiment.get("story") or ""),
        "dataset": _dataset(experiment.get("dataset", {})),
        "columns": [heading for _, heading in shown],
        "rows": [_row(r, [key for key, _ in shown]) for r in rungs],
        "claims": claims,
        "notes": notes,
        "layers": [{"name": r["name"], "rows": r["layers"], "total": r["layers"][-1]["params"]}
                   for r in rungs if r.get("layers")],
        "n_hold": n_hold, "n_checked": n_hold + n_fail, "n_unchecked": n_unchecked,
        "figures": [_figure(f, load) for f in experiment.get("figures") or []],
    }


def _paragraphs(story: str) -> list[str]:
    """Blank lines separate paragraphs; single newlines are only the source file's line wrapping."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", story.strip()) if p.strip()]


def _dataset(data: dict) -> dict:
    n_train, n_test = (f"{n:,}" if isinstance(n, int) else "?" for n in (data.get("n_train"), data.get("n_test")))
    if data.get("test_is_train"):
        sizes = f"{n_train} points, scored on the points it was fitted on"
    else:
        sizes = f"{n_train} train, {n_test} test"
    n_features = data.get("n_features")
    params = ", ".join(f"{k}={_value(v)}" for k, v in data.items() if k not in _DATASET_KEYS)
    return {"name": data.get("name", "?"), "sizes": sizes,
            "features": None if n_features is None else f"{n_features:,} feature{'s' * (n_features != 1)}",
            "params": params, "fallback_for": data.get("fallback_for"), "note": data.get("note")}


def _row(rung: dict, keys: list[str]) -> dict:
    metrics, fit = rung.get("metrics", {}), rung.get("fit_seconds")
    model = dict(rung.get("model") or {})
    model.pop("backend", None)
    return {
        "name": rung["name"],
        "backend": rung.get("backend", ""),
        "model": _describe(model),
        "phi": _describe(rung.get("features")) if rung.get("features") else "",
        "n_features": "–" if rung.get("n_features") is None else f"{rung['n_features']:,}",
        "n_params": "–" if rung.get("n_params") is None else f"{rung['n_params']:,}",
        "cells": ([_cell(metrics.get(key)) for key in keys] if rung.get("status", "ok") == "ok"
                  else [{"text": rung["status"], "std": None, "diverged": True}] * len(keys)),
        "fit": _cell(fit, digits=2 if fit and (fit.get("mean") or 0) >= 1 else 3),  # ms matter below 1 s
    }


def _describe(spec: dict) -> str:
    """{"kind": "mlp", "hidden": [16, 16], "activation": "relu"} → "mlp, hidden=[16, 16], activation=relu"."""
    rest = [f"{k}={_value(v)}" for k, v in spec.items() if k != "kind" and v is not None]
    return ", ".join([str(spec.get("kind", "?")), *rest])


def _value(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _cell(summary: dict | None, digits: int = 3) -> dict:
    """mean ± std over seeds (std only with several seeds); a value that diverged reads "diverged"."""
    if summary is None:
        return {"text": "–", "std": None, "diverged": False}
    values = summary.get("values") or []
    if summary.get("mean") is None:
        return {"text": "diverged", "std": None, "diverged": True}
    mean, std = summary["mean"], summary.get("std")
    return {"text": _number(mean, digits),
            "std": _number(std, digits, like=mean) if len(values) > 1 and std is not None else None,
            "diverged": False}


def _number(x: float, digits: int = 3, like: float | None = None) -> str:
    """Fixed point where it reads well (0.981, 12.40), significant digits for tiny or huge values;
    a std is written the way its mean is (`like`), so 0.981 ± 0.004, not 0.981 ± 0.00412."""
    scale = x if like is None else like
    if scale == 0 or 10 ** -digits <= abs(scale) < 1e5:
        return f"{x:.{digits}f}"
    return f"{x:.{digits}g}"


def _claim(claim: dict) -> dict:
    from .tables import _number as _plain, claim_sides

    value = claim.get("value")
    sides = claim_sides(claim) if claim.get("reason") or "right" in claim else None
    return {"text": claim.get("text", ""), "check": claim.get("check", ""), "holds": claim.get("holds"),
            "value": "diverged" if value is None else _plain(value), "sides": sides}


def _date(date: str | None) -> str | None:
    if not date:
        return None
    try:
        when = datetime.fromisoformat(date)
    except ValueError:
        return date
    text = f"{when:%Y-%m-%d %H:%M}"
    offset = when.utcoffset()
    if offset is None:
        return text
    if not offset:
        return text + " UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes > 0 else "−"
    return text + f" UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _duration(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
