"""An experiment's record in results.json: its rungs summarised over seeds, its claims checked."""

from __future__ import annotations

import numpy as np

from . import claims
from .errors import LadderError
from .metrics import value_of
from .results import stand_in
from .task import Failed


def experiment_record(spec, dataset, seeds: list[int], runs_by_rung: list[list]) -> dict:
    """The record of one experiment from each rung's runs (a RungRun per seed, in seed order)."""
    rung_records = [rung_record(spec, rung, seeds, runs) for rung, runs in zip(spec.rungs, runs_by_rung)]
    record = {
        "name": spec.name, "title": spec.title, "story": spec.story.strip(), "task": spec.task,
        "dataset": dataset.describe(),
        "rungs": rung_records,
        "claims": check_claims(spec, rung_records, not_checked=stand_in(dataset.describe())),
    }
    if spec.probes is not None:
        record["probes"] = spec.probes.model_dump()
    return record


def _summary(values: list[float | None]) -> dict:
    """mean ± std over seeds; a seed that diverged has no value, and then neither has the mean."""
    if any(v is None for v in values):
        return {"mean": None, "std": None, "values": [None if v is None else float(v) for v in values]}
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "values": list(map(float, values))}


def rung_record(spec, rung, seeds: list[int], runs: list) -> dict:
    """One rung's record: metrics as mean ± std over seeds, per-epoch history per seed, and its status.

    A rung is "diverged" when any seed's loss became non-finite or exploded: the record names
    the first such seed, the epoch and the reason. It is "failed" when a seed's task raised or its
    worker died (a `Failed` in place of its run): the first such seed and reason, and `failures`
    lists every one.
    """
    done = [r for r in runs if not isinstance(r, Failed)]
    keys = dict.fromkeys(key for r in done for key in r.metrics)
    metrics = {key: _summary([getattr(r, "metrics", {}).get(key) for r in runs]) for key in keys}
    history = {key: [r.history.get(key, []) for r in done] for key in (done[0].history if done else {})}
    record = {"name": rung.name, "backend": spec.backend(rung), "model": rung.model.model_dump(),
              "status": "ok", "n_features": done[0].n_features if done else None,
              "n_params": done[0].n_params if done else None, "metrics": metrics,
              "fit_seconds": _summary([getattr(r, "fit_seconds", None) for r in runs])}
    diverged = [(seed, r.diverged) for seed, r in zip(seeds, runs) if not isinstance(r, Failed) and r.diverged]
    if diverged:
        seed, first = diverged[0]
        record.update(status="diverged", seed=seed, epoch=first["epoch"], reason=first["reason"])
    failures = [{"seed": seed, "reason": r.reason} for seed, r in zip(seeds, runs) if isinstance(r, Failed)]
    if failures:  # the task raised, or its worker died: this seed has no numbers at all
        record.update(status="failed", seed=failures[0]["seed"], reason=failures[0]["reason"], failures=failures)
    if rung.features is not None:
        record["features"] = rung.features.model_dump()
    if rung.same_as:
        record["same_as"] = rung.same_as
    if rung.train is not None and rung.train.augment is not None:
        record["augmented"] = rung.train.augment.model_dump()
    if rung.train is not None and rung.train.label_smoothing:
        record["label_smoothing"] = rung.train.label_smoothing
    if rung.swept:
        record["sweep"] = rung.swept
    notes = list(dict.fromkeys(note for r in done for note in r.notes))
    if notes:
        record["notes"] = notes
    if done and done[0].layers:
        record["layers"] = done[0].layers
    if history:
        record["history"] = history
    return record


def check_claims(spec, rung_records: list[dict], not_checked: str | None = None) -> list[dict]:
    """Each claim with whether it holds on the mean over seeds, both sides' values and the margin.

    A claim on a rung that did not finish (diverged) fails, and says why. With `not_checked` (the
    data stood in for the data the claims were written for) no claim holds or fails: "holds" is
    None and the reason says why; the sides are still recorded.
    """
    by_name = {r["name"]: r for r in rung_records}

    def lookup(ref: claims.Ref) -> float | None:
        rung = by_name[ref.rung]
        try:
            return value_of(rung, ref.metric)
        except KeyError:
            raise LadderError(f"{spec.name}: claim on {ref}: rung {ref.rung!r} has no metric "
                              f"{ref.metric!r}; it has: {', '.join(rung['metrics'])}") from None

    results = []
    for claim in spec.claims:
        check = claims.parse(claim.check)
        entry = {"text": claim.text, "check": claim.check}
        broken = [by_name[ref.rung] for ref in check.refs() if by_name[ref.rung].get("status", "ok") != "ok"]
        if broken:
            entry.update(holds=False, value=None, left=None, right=None, margin=None, reason=_why(broken[0]))
        else:
            left, right = claims.sides(check, lookup)
            entry.update(holds=bool(claims.OPS[check.op](left, right)), value=left, left=left, right=right,
                         margin=claims.margin(check.op, left, right))
        if not_checked:  # a claim written for data that was not there is neither true nor false
            entry.update(holds=None, reason=f"not checked: {not_checked}")
        results.append(entry)
    return results


def _why(rung: dict) -> str:
    """Why a claim on this unfinished rung fails: "rung 'mlp' diverged at epoch 3 (seed 0): …"."""
    where = f" at epoch {rung['epoch']}" if rung.get("epoch") else ""
    return f"rung {rung['name']!r} {rung['status']}{where} (seed {rung.get('seed', 0)}): {rung.get('reason', '')}"
