"""Run an experiment: load its dataset once, fit every rung for every seed, check the claims.

`run_rung` is a pure task (spec and dataset in, a plain record out), so rungs × seeds could be
fanned out over processes without changing what a rung is.
"""

from __future__ import annotations

import inspect
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import backends, budget, claims, data
from .backends import Task
from .metrics import (boundary_linearity, count_features, count_params, final_step, linear_coefficients,
                      loss_drops, score, value_of)
from .errors import LadderError
from .experiments.spec import ExperimentSpec, RungSpec
from .rungs import build_estimator


class Listener:
    """Follows a run (a progress bar, a live view); every method does nothing by default."""

    def experiment_started(self, spec: ExperimentSpec, dataset, n_tasks: int) -> None: ...
    def rung_started(self, rung: str, seed: int, epochs: int | None) -> None: ...
    def epoch_done(self, epoch: int, history: dict) -> None: ...
    def rung_done(self, rung: str, seed: int, record: "RungRun") -> None: ...


@dataclass
class RungRun:
    """One rung fitted with one seed."""
    metrics: dict[str, float]
    fit_seconds: float
    history: dict[str, list[float]]
    n_features: int
    n_params: int | None
    estimator: object = field(repr=False, default=None)
    test_predictions: np.ndarray | None = field(repr=False, default=None)
    notes: list[str] = field(default_factory=list)  # warnings raised while fitting


def _fit(estimator, X, y, fit_params: dict):
    """Fit `estimator` (a model or a Pipeline of φ maps and a model); return φ(X) as the model saw it.

    A Pipeline is fitted step by step, as Pipeline.fit would, so the transformed training data can
    be reused to score the training split instead of computing φ a second time.
    """
    steps = getattr(estimator, "steps", [(None, estimator)])
    for _, phi in steps[:-1]:
        X = phi.fit_transform(X, y)
    model = steps[-1][1]
    model.fit(X, y, **fit_params)
    return X


def run_rung(rung: RungSpec, dataset, seed: int, device: str = "auto",
             listener: Listener | None = None) -> RungRun:
    """Fit one rung on the training split with one seed and measure it on both splits.

    scikit-learn's solvers and the φ maps run with the thread count of `ladder.budget` (one
    thread); a PyTorch rung's estimator applies its own choice around its fit and predictions.
    """
    with budget.threads(budget.threads_for()):
        return _run_rung(rung, dataset, seed, device, listener or Listener())


def _run_rung(rung: RungSpec, dataset, seed: int, device: str, listener: Listener) -> RungRun:
    train = rung.train.estimator_params() if rung.train else None
    estimator = build_estimator(dataset.task, rung.features and rung.features.model_dump(),
                                rung.model.model_dump(), train, seed, device)
    X_train, X_test = dataset.rows("train"), dataset.rows("test")
    model = final_step(estimator)
    accepts = inspect.signature(model.fit).parameters
    fit_params = {}
    if "callback" in accepts:
        fit_params["callback"] = lambda epoch, history, module: listener.epoch_done(epoch, history)
    if "eval_set" in accepts and model is estimator:  # a test curve needs the model to see raw inputs
        fit_params["eval_set"] = (X_test, dataset.y_test)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seen_train = _fit(estimator, X_train, dataset.y_train, fit_params)
    seconds = time.perf_counter() - start
    # A warning (lbfgs stopping at max_iter, say) belongs in the results, not scrolled past on stderr.
    notes = list(dict.fromkeys(str(w.message).strip().splitlines()[0].rstrip(":") for w in caught))
    test_predictions = estimator.predict(X_test)
    metrics = {**score(dataset.task, model.predict(seen_train), dataset.y_train, "train"),
               **score(dataset.task, test_predictions, dataset.y_test, "test")}
    history = dict(getattr(model, "history_", {}))
    if history.get("loss"):
        metrics["final_loss"] = history["loss"][-1]
        metrics["loss_drops"] = loss_drops(history)
    metrics.update(linear_coefficients(estimator))
    if dataset.task == "classification" and X_train.shape[1] == 2:
        metrics["boundary_linearity"] = boundary_linearity(estimator, X_train)
    return RungRun(metrics, seconds, history, count_features(estimator, dataset.n_features),
                   count_params(estimator), estimator, test_predictions, notes)


def _summary(values: list) -> dict:
    """mean and std over the seeds that finished; `values` keeps one entry per seed (None: failed)."""
    present = [v for v in values if v is not None]
    mean, std = (float(np.mean(present)), float(np.std(present))) if present else (None, None)
    return {"mean": mean, "std": std, "values": [None if v is None else float(v) for v in values]}


@dataclass
class ExperimentRun:
    """What a run of one experiment produced: the results.json record and the fitted models."""
    record: dict
    models: dict[str, object]  # rung name → estimator fitted with the first seed, for figures
    dataset: object
    predictions: dict[str, np.ndarray] = field(default_factory=dict)  # rung name → test predictions, first seed


def load_dataset(spec: ExperimentSpec):
    """The experiment's dataset; an impossible parameter is a LadderError naming the file."""
    params = spec.dataset.model_extra or {}
    try:
        return data.load(spec.dataset.name, **params)
    except ValueError as exc:
        # The generators start their messages with the parameter's name: point at that key.
        key, _, rest = str(exc).partition(" ")
        where = f"dataset.{key}: {rest}" if key in params else f"dataset: {exc}"
        raise LadderError(f"{spec.source}: {where} (dataset {spec.dataset.name!r})") from None


def training_work(spec: ExperimentSpec, dataset) -> int:
    """Σ epochs × training points over the experiment's PyTorch rungs (one seed): how big a run is.

    An image dataset counts ten times (a CNN's or an MLP's pass over a 784-pixel image costs
    about that many passes over a 2-D point).
    """
    weight = 10 if dataset.X_train.ndim == 3 else 1
    return sum(r.train.epochs * len(dataset.X_train) * weight for r in spec.rungs if r.train is not None)


def run_experiment(spec: ExperimentSpec, seeds: list[int], device: str = "auto",
                   listener: Listener | None = None, dataset=None, jobs: int = 1) -> ExperimentRun:
    """Fit every rung with every seed; return the results.json record with the claims checked.

    `dataset` may be given when it is already loaded; by default it is loaded from the spec.
    """
    return run_experiments([spec], seeds, device, listener,
                           None if dataset is None else [dataset], jobs)[0]


def run_experiments(specs: list[ExperimentSpec], seeds: list[int], device: str = "auto",
                    listener: Listener | None = None, datasets: list | None = None,
                    jobs: int = 1, threads: int | None = None, backend: str = "local",
                    address: str | None = None) -> list[ExperimentRun]:
    """Every rung × seed of every experiment as one list of tasks, run by a backend, then assembled.

    `jobs` > 1 runs the tasks in that many worker processes with `threads` threads each;
    `backend` "ray" runs them on Ray (a local instance, or the cluster at `address`). A task
    that fails leaves its rung marked failed (see `_rung_record`); the other tasks go on.
    """
    listener = listener or Listener()
    datasets = datasets if datasets is not None else [load_dataset(spec) for spec in specs]
    tasks = [Task(i, rung, seed) for i, spec in enumerate(specs) for rung in spec.rungs for seed in seeds]
    for spec, dataset in zip(specs, datasets):
        listener.experiment_started(spec, dataset, len(spec.rungs) * len(seeds))
    results = {(t.experiment, t.rung.name, t.seed): run
               for t, run in backends.execute(tasks, datasets, device, listener, jobs, threads, backend, address)}
    return [_assemble(spec, dataset, seeds, [[results[i, rung.name, seed] for seed in seeds] for rung in spec.rungs])
            for i, (spec, dataset) in enumerate(zip(specs, datasets))]


def _assemble(spec: ExperimentSpec, dataset, seeds: list[int], runs_by_rung: list[list]) -> ExperimentRun:
    """The experiment's record from each rung's runs (one RungRun or Failed per seed, in seed order)."""
    rung_records, models, predictions = [], {}, {}
    for rung, runs in zip(spec.rungs, runs_by_rung):
        done = [r for r in runs if isinstance(r, RungRun)]
        if done:  # a rung with no finished seed has no model to draw
            models[rung.name] = done[0].estimator
            predictions[rung.name] = done[0].test_predictions
        rung_records.append(_rung_record(spec, rung, runs, seeds))
    record = {
        "name": spec.name, "title": spec.title, "story": spec.story.strip(), "task": spec.task,
        "dataset": dataset.describe(),
        "rungs": rung_records, "claims": check_claims(spec, rung_records),
    }
    return ExperimentRun(record, models, dataset, predictions)


def _rung_record(spec: ExperimentSpec, rung: RungSpec, runs: list, seeds: list[int]) -> dict:
    """One rung's record; seeds that failed have None among the values and a reason in "failures"."""
    done = [r for r in runs if isinstance(r, RungRun)]
    first = done[0] if done else RungRun({}, 0.0, {}, None, None)
    metrics = {key: _summary([getattr(r, "metrics", {}).get(key) for r in runs]) for key in first.metrics}
    history = {key: [r.history[key] for r in done] for key in first.history}
    record = {"name": rung.name, "backend": spec.backend(rung), "model": rung.model.model_dump(),
              "n_features": first.n_features, "n_params": first.n_params, "metrics": metrics,
              "fit_seconds": _summary([getattr(r, "fit_seconds", None) for r in runs])}
    failures = [{"seed": seed, "reason": r.reason} for seed, r in zip(seeds, runs) if isinstance(r, backends.Failed)]
    if failures:
        record.update(status="failed", failures=failures)
    if rung.features is not None:
        record["features"] = rung.features.model_dump()
    if rung.swept:
        record["sweep"] = rung.swept
    notes = list(dict.fromkeys(note for r in done for note in r.notes))
    if notes:
        record["notes"] = notes
    if history:
        record["history"] = history
    return record


def failure_reason(rung: dict) -> str | None:
    """Why a rung record is failed ("seed 1: ValueError: …"), or None when every seed finished."""
    if rung.get("status") != "failed":
        return None
    first = rung["failures"][0]
    more = len(rung["failures"]) - 1
    return f"seed {first['seed']}: {first['reason']}" + (f" (and {more} more seeds)" if more else "")


def check_claims(spec: ExperimentSpec, rung_records: list[dict]) -> list[dict]:
    """Each claim with whether it holds on the mean over seeds, and the value of its left side."""
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
        failed = [f"rung {ref.rung!r} failed ({failure_reason(by_name[ref.rung])})" for ref in check.refs()
                  if ref.rung in by_name and failure_reason(by_name[ref.rung])]
        if failed:  # a claim on a rung with a missing seed is not checked on a partial mean
            results.append({"text": claim.text, "check": claim.check, "holds": False, "value": None,
                            "reason": "; ".join(dict.fromkeys(failed))})
            continue
        holds, value = claims.evaluate(check, lookup)
        results.append({"text": claim.text, "check": claim.check, "holds": holds, "value": value})
    return results
