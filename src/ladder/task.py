"""One task: one rung fitted with one seed, and what it gives back.

A task is pure (a rung's spec, its dataset and a seed in; plain, picklable data out), so the
executors can run it in this process, in worker processes or on a Ray cluster and get the same
numbers: every task seeds itself. `run_rung` fits and scores the rung; `attempt` runs it and
turns an error into `Failed(reason)`, so that one failed rung × seed does not stop the run.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field

import numpy as np

from . import anatomy, budget
from .augment import probe_scores
from .errors import LadderError
from .experiments.spec import ExperimentSpec, RungSpec
from .metrics import (boundary_linearity, columns, count_features, count_params, final_step,
                      linear_coefficients, loss_drops, score)
from .rungs import build_estimator
from .task_warnings import caught_warnings, first_lines
from .train import Diverged, smoothed_loss_floor


@dataclass(frozen=True)
class Task:
    """Fit `rung` of the run's experiment number `experiment` with `seed` (and score its probes)."""
    experiment: int
    rung: object  # a RungSpec
    seed: int
    probes: object = None  # the experiment's ProbeSpec, if it has one


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


@dataclass(frozen=True)
class Failed:
    """What a task that produced no record left instead: why."""
    reason: str


class Listener:
    """Follows a run (a progress bar, a live view); every method does nothing by default.

    Where a run on images runs its jobs in threads, the methods are called from those threads.
    """

    def experiment_started(self, spec: ExperimentSpec, dataset, n_tasks: int) -> None: ...
    def rung_started(self, rung: str, seed: int, epochs: int | None) -> None: ...
    def epoch_done(self, epoch: int, history: dict) -> None: ...
    def rung_done(self, rung: str, seed: int, record: "RungRun") -> None: ...


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
    with caught_warnings() as caught:  # catch_warnings is not safe in threads: see ladder.task_warnings
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
    if callable(getattr(model, "loss", None)):  # a PyTorch rung (scikit-learn's MLP names its loss)
        # The test split's loss, as `ladder play` shows it: an exported set-up is checked by it.
        seen_test = estimator[:-1].transform(X_test) if model is not estimator else X_test
        metrics["test_loss"] = model.loss(seen_test, dataset.y_test)
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



def _nonfinite(history: dict) -> dict | None:
    """Divergence that a loop of its own (the glass box) let run to the end: its first non-finite loss."""
    for epoch, loss in enumerate(history.get("loss", [])):
        if not np.isfinite(loss):
            return {"epoch": epoch + 1, "reason": f"the loss became {loss}"}
    return None


def describe(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def failing_softly(work, *args):
    """work(*args), or Failed(reason) when it raised: a failed rung × seed is a result to report,
    not a reason to stop the run (a LadderError, bad input, still stops it)."""
    try:
        return work(*args)
    except LadderError:
        raise
    except Exception as exc:
        return Failed(describe(exc))


def attempt(task: Task, dataset, device: str, listener=None):
    """run_rung for one task: its RungRun, or Failed(reason) when fitting or scoring raised."""
    return failing_softly(run_rung, task.rung, dataset, task.seed, device, listener, task.probes)


def report_done(listener, task: Task, result) -> tuple[Task, object]:
    """Tell the listener that a task ran elsewhere has finished (the bar follows completions)."""
    listener.rung_started(task.rung.name, task.seed, None)
    listener.rung_done(task.rung.name, task.seed, result)
    return task, result
