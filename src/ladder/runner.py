"""Run experiments: load each dataset once, fit every rung with every seed, assemble the records.

`run_rung` is a pure task (spec and dataset in, a plain record out): the backends run the
rung × seed tasks serially or in worker processes, and records.py turns the runs into results.
"""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from . import anatomy, backends, budget, data
from .backends import Task
from .errors import LadderError
from .experiments.spec import ExperimentSpec, RungSpec
from .metrics import (boundary_linearity, columns, count_features, count_params, final_step,
                      linear_coefficients, loss_drops, score)
from .notes import caught_warnings, first_lines
from .records import experiment_record
from .rungs import build_estimator
from .augment import probe_scores
from .train import Diverged, smoothed_loss_floor


class Listener:
    """Follows a run (a progress bar, a live view); every method does nothing by default.

    Where a run on images runs its jobs in threads, the methods are called from those threads.
    """

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
    diverged: dict | None = None  # {"epoch": …, "reason": …} when its loss became non-finite or exploded
    layers: list[dict] | None = None  # a PyTorch rung's layers, shapes and parameter arithmetic


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
             listener: Listener | None = None, probes=None) -> RungRun:
    """Fit one rung on the training split with one seed and measure it on both splits (and on the
    moved test images of `probes`, a ProbeSpec, when given).

    scikit-learn's solvers and the φ maps run with the thread count of `ladder.budget` (one
    thread); a PyTorch rung's estimator applies its own choice around its fit and predictions.
    """
    with budget.threads(budget.threads_for()):
        run = _run_rung(rung, dataset, seed, device, listener or Listener())
        if probes is not None and not run.diverged:
            run.metrics.update(probe_scores(run.estimator, dataset, probes))
        return run


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
    with caught_warnings() as caught:  # catch_warnings is not safe in threads: see ladder.notes
        try:
            seen_train, diverged = _fit(estimator, X_train, dataset.y_train, fit_params), None
        except Diverged as stop:
            seen_train, diverged = None, {"epoch": stop.epoch + 1, "reason": stop.reason}
    seconds = time.perf_counter() - start
    # A warning (lbfgs stopping at max_iter, say) belongs in the results, not scrolled past on stderr.
    notes = first_lines(caught) + _smoothing_note(model)
    history = dict(getattr(model, "history_", {}))
    diverged = diverged or _nonfinite(history)
    if diverged:  # nothing it predicts means anything: its scores are NaN (null), claims on it fail
        nothing = {key: float("nan") for key in [m.key for m in columns(dataset.task)] + ["final_loss"]}
        return RungRun(nothing, seconds, history, count_features(estimator, dataset.n_features),
                       count_params(estimator), estimator, None, notes, diverged)
    test_predictions = estimator.predict(X_test)
    metrics = {**score(dataset.task, model.predict(seen_train), dataset.y_train, "train"),
               **score(dataset.task, test_predictions, dataset.y_test, "test")}
    if history.get("loss"):
        metrics["final_loss"] = history["loss"][-1]
        metrics["loss_drops"] = loss_drops(history)
    metrics.update(linear_coefficients(estimator))
    if dataset.task == "classification" and X_train.shape[1] == 2:
        metrics["boundary_linearity"] = boundary_linearity(estimator, X_train)
    layers = anatomy.layers(model.module_, model.input_shape_) if hasattr(model, "input_shape_") else None
    return RungRun(metrics, seconds, history, count_features(estimator, dataset.n_features),
                   count_params(estimator), estimator, test_predictions, notes, layers=layers)


def _smoothing_note(model) -> list[str]:
    """Why a label-smoothed rung's final loss is higher than its accuracy suggests."""
    eps = getattr(model, "label_smoothing", 0)
    if not eps or not hasattr(model, "classes_"):
        return []
    floor = smoothed_loss_floor(eps, len(model.classes_))
    return [f"trained with label smoothing {eps:g}: its loss cannot fall below {floor:.2f}, "
            f"so compare its accuracy, not its loss, with the other rungs'"]


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


def load_datasets(specs: list[ExperimentSpec]) -> list:
    """Each experiment's dataset, loaded once however many experiments use the same one."""
    loaded: dict[str, object] = {}
    for spec in specs:
        key = repr(sorted(spec.dataset.model_dump().items()))
        if key not in loaded:
            loaded[key] = load_dataset(spec)
    return [loaded[repr(sorted(spec.dataset.model_dump().items()))] for spec in specs]


def parallel_work(specs: list[ExperimentSpec], datasets: list, seeds: int) -> float:
    """The training that parallel jobs could share: Σ epochs × training points over the PyTorch
    rungs of every seed; unbounded when the run holds an image dataset.

    A run with images runs its jobs in threads of this process (backends.run_threads), which
    cost nothing to start; worker processes cost one or two seconds each, and only a run with
    enough training pays them back (budget.PARALLEL_WORK).
    """
    if backends.holds_images(datasets):
        return math.inf
    return seeds * sum(r.train.epochs * len(dataset.X_train)
                       for spec, dataset in zip(specs, datasets) for r in spec.rungs if r.train is not None)


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
    `backend` "ray" runs them on Ray (a local instance, or the cluster at `address`). A task that
    fails marks its rung failed (ladder.records); the other tasks go on.
    A rung that is the same as a rung fitted in this run (`same_as`) is not trained again: that
    model is scored on this experiment's probes.
    """
    listener = listener or Listener()
    datasets = datasets if datasets is not None else load_datasets(specs)
    reused = _reused(specs)
    tasks = [Task(i, rung, seed, spec.probes) for i, spec in enumerate(specs) for rung in spec.rungs
             if (i, rung.name) not in reused for seed in seeds]
    for i, (spec, dataset) in enumerate(zip(specs, datasets)):
        listener.experiment_started(spec, dataset, sum(t.experiment == i for t in tasks))
    results = {}

    def store(experiment: int, rung: str, seed: int, run) -> None:
        """A rung's run, then the runs of the rungs that are the same as it (a chain too)."""
        results[experiment, rung, seed] = run
        for (i, name), source in reused.items():
            if source != (experiment, rung):
                continue
            # Under the tasks' own cap: in a run on threads, a thread count set here would change
            # the fits under way in the other threads.
            with budget.budget(threads or 1):
                scored = _score_again(run, specs[experiment].name, rung, datasets[i], specs[i].probes)
            store(i, name, seed, scored)

    for t, run in backends.execute(tasks, datasets, device, listener, jobs, threads, backend, address):
        # A reused model is scored as soon as it is back (on a parallel backend, while the other
        # tasks go on), not after the last task: the full run's three took 1.7 s with a core idle.
        store(t.experiment, t.rung.name, t.seed, run)
    return [_assemble(spec, dataset, seeds,
                      [[results[i, rung.name, seed] for seed in seeds] for rung in spec.rungs])
            for i, (spec, dataset) in enumerate(zip(specs, datasets))]


def _reused(specs: list[ExperimentSpec]) -> dict[tuple[int, str], tuple[int, str]]:
    """(experiment, rung) → (experiment, rung) it is the same as, where that one runs here too."""
    where = {spec.name: j for j, spec in enumerate(specs)}
    links = {}
    for i, spec in enumerate(specs):
        for rung in spec.rungs:
            experiment, _, original = (rung.same_as or "").rpartition(":")
            if experiment in where and where[experiment] != i:
                links[i, rung.name] = (where[experiment], original)
    return links


def _score_again(run: RungRun, experiment: str, rung: str, dataset, probes) -> RungRun:
    """The run of the rung fitted in `experiment`, its model also scored on `probes`."""
    if isinstance(run, backends.Failed):
        return run
    metrics = dict(run.metrics)
    if probes is not None and not run.diverged:
        # As a task's error does (backends.attempt): this rung fails, the run goes on.
        scores = backends.failing_softly(_probed, run.estimator, dataset, probes)
        if isinstance(scores, backends.Failed):
            return scores
        metrics.update(scores)
    note = f"the model fitted for {experiment}:{rung}, scored here, not trained again"
    return replace(run, metrics=metrics, notes=[*run.notes, note])


def _probed(estimator, dataset, probes) -> dict[str, float]:
    with budget.threads(budget.threads_for()):
        return probe_scores(estimator, dataset, probes)


def _assemble(spec: ExperimentSpec, dataset, seeds: list[int],
              runs_by_rung: list[list[RungRun]]) -> ExperimentRun:
    """The experiment's record and its first finished seed's models, from each rung's runs (one per seed)."""
    first = {rung.name: done[0] for rung, runs in zip(spec.rungs, runs_by_rung)
             if (done := [r for r in runs if isinstance(r, RungRun)])}  # a rung none finished has no model
    models = {name: run.estimator for name, run in first.items()}
    predictions = {name: run.test_predictions for name, run in first.items()}
    return ExperimentRun(experiment_record(spec, dataset, seeds, runs_by_rung), models, dataset, predictions)


def _nonfinite(history: dict) -> dict | None:
    """Divergence that a loop of its own (the glass box) let run to the end: its first non-finite loss."""
    for epoch, loss in enumerate(history.get("loss", [])):
        if not np.isfinite(loss):
            return {"epoch": epoch + 1, "reason": f"the loss became {loss}"}
    return None
