"""Run experiments: load each dataset once, fit every rung with every seed, assemble the records.

The runner turns experiments into tasks (ladder.task: one rung × seed each), has an executor run
them (ladder.executors: serially, in worker processes or threads, or on Ray), and hands the runs
to records.py, which turns them into results.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from . import budget, executors
from .augment import probe_scores
from .experiments import load_dataset, resolve
from .experiments.spec import ExperimentSpec
from .devices import pick_device
from .plan import RunPlan
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


def run_experiment(spec: ExperimentSpec | str, seeds: list[int], plan: RunPlan | None = None,
                   listener: Listener | None = None, dataset=None) -> ExperimentRun:
    """Fit every rung with every seed; return the results.json record with the claims checked.

    `spec` is an ExperimentSpec or what `ladder run` takes: a built-in experiment's name or a
    .toml file's path. `dataset` may be given when it is already loaded; by default it is
    loaded from the spec. Without a `plan` the tasks run in turn in this process (ladder.plan).
    """
    if isinstance(spec, str):
        spec = resolve(spec)
    return run_experiments([spec], seeds, plan, listener, None if dataset is None else [dataset])[0]


def run_experiments(specs: list[ExperimentSpec], seeds: list[int], plan: RunPlan | None = None,
                    listener: Listener | None = None, datasets: list | None = None) -> list[ExperimentRun]:
    """Every rung × seed of every experiment as one list of tasks, run by an executor, then assembled.

    `plan` (ladder.plan.plan_run) says where the tasks run, how many at a time and with how many
    threads each; by default they run in turn in this process. A task that fails marks its rung
    failed (ladder.records); the other tasks go on.
    A rung that is the same as a rung fitted in this run (`same_as`) is not trained again: that
    model is scored on this experiment's probes.
    """
    listener = listener or Listener()
    datasets = datasets if datasets is not None else load_datasets(specs)
    plan = plan or RunPlan(device=pick_device("auto").type)
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
            with budget.budget(plan.threads, plan.asked_threads):
                scored = _score_again(run, specs[experiment].name, rung, datasets[i], specs[i].probes)
            store(i, name, seed, scored)

    for t, run in executors.execute(tasks, datasets, plan, listener):
        # A reused model is scored as soon as it is back (on a parallel executor, while the other
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
