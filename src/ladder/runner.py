"""Run experiments: load each dataset once, fit every rung with every seed, assemble the records.

The runner turns experiments into tasks (ladder.task: one rung × seed each), has an executor run
them (ladder.executors: serially, in worker processes or threads, or on Ray), and hands the runs
to records.py, which turns them into results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from . import budget, executors
from .augment import probe_scores
from .experiments import load_dataset
from .experiments.spec import ExperimentSpec
from .records import experiment_record
from .task import Failed, Listener, RungRun, Task, failing_softly, run_rung

__all__ = ["ExperimentRun", "Listener", "RungRun", "load_dataset", "load_datasets", "run_experiment",
           "run_experiments", "run_rung"]


@dataclass
class ExperimentRun:
    """What a run of one experiment produced: the results.json record and the fitted models."""
    record: dict
    models: dict[str, object]  # rung name → estimator fitted with the first seed, for figures
    dataset: object
    predictions: dict[str, np.ndarray] = field(default_factory=dict)  # rung name → test predictions, first seed


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

    A run with images runs its jobs in threads of this process (executors.run_threads), which
    cost nothing to start; worker processes cost one or two seconds each, and only a run with
    enough training pays them back (budget.PARALLEL_WORK).
    """
    if executors.holds_images(datasets):
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

    for t, run in executors.execute(tasks, datasets, device, listener, jobs, threads, backend, address):
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
    if isinstance(run, Failed):
        return run
    metrics = dict(run.metrics)
    if probes is not None and not run.diverged:
        # As a task's error does (task.attempt): this rung fails, the run goes on.
        scores = failing_softly(_probed, run.estimator, dataset, probes)
        if isinstance(scores, Failed):
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
