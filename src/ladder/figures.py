"""Which figures a run draws, chosen from what each experiment is: 2-D classes, a 1-D curve, images.

Each figure is returned as a (slug, title, draw) triple: `draw()` makes the matplotlib Figure
from the models the run has just fitted, so a progress bar can follow the drawing one figure at
a time and nothing is drawn that is not saved.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Callable, Iterator

from sklearn.exceptions import ConvergenceWarning
from torch import nn

from . import plots
from .features.images import edge_maps
from .metrics import final_step, headline
from .models import MLP, LinearNet, SignalCNN, SimpleCNN

FigureJob = tuple[str, str, Callable]


def _module(estimator, kind):
    module = getattr(final_step(estimator), "module_", None)
    return module if isinstance(module, kind) else None


def _first(run, kind, raw_inputs_only=True):
    """The name and model of the first finished rung whose PyTorch module is a `kind`."""
    for name, model in finished(run).items():
        if _module(model, kind) is not None and not (raw_inputs_only and hasattr(model, "steps")):
            return name, model
    return None, None


def _has_history(record) -> bool:
    return any(r.get("history", {}).get("loss") for r in record["rungs"])


def finished(run) -> dict[str, object]:
    """The fitted models of the rungs that finished: one that diverged predicts nothing worth drawing."""
    ok = {r["name"] for r in run.record["rungs"] if r.get("status", "ok") == "ok"}
    return {name: model for name, model in run.models.items() if name in ok}


def _training_title(record) -> str:
    scored = any(h.get("test_accuracy") or h.get("test_r2") for h in
                 (r.get("history", {}) for r in record["rungs"]))
    return "Training loss, and the test score, per epoch" if scored else "Training loss per epoch"


def experiment_figures(run) -> Iterator[FigureJob]:
    """The figures of one experiment (an ExperimentRun), in the order the report shows them."""
    record, ds, models = run.record, run.dataset, finished(run)
    if record.get("probes"):
        yield ("robustness", "Test accuracy as the digits move: shifted and rotated",
               lambda: plots.robustness_curves(record))
        yield ("moved-digit", "One test digit shifted pixel by pixel, and what each model says",
               lambda: plots.moved_digit(models, ds))
        return
    if ds.X_train.ndim == 3:
        yield from _image_figures(run)
        return
    if ds.name == "mnist1d":
        yield from _signal_figures(run)
        return
    yield "dataset", "The data", lambda: plots.dataset(ds)
    rungs = [r for r in record["rungs"] if r["name"] in models]
    # The models drawn are the first seed's, so each panel gives that seed's score, not the mean.
    several = any(len(r["metrics"][headline(ds.task)]["values"]) > 1 for r in rungs)
    whose = " (the first seed's models, and their scores)" if several else ""
    if ds.task == "classification" and ds.n_features == 2 and models:
        metrics = {r["name"]: (r["metrics"]["test_accuracy"]["values"][0], r["n_features"]) for r in rungs}
        yield ("decision-boundaries", f"Decision boundaries, rung by rung{whose}",
               lambda: plots.decision_boundaries(models, ds, metrics))
    elif ds.task == "regression" and ds.n_features == 1 and models:
        r2 = {r["name"]: r["metrics"]["test_r2"]["values"][0] for r in rungs}
        yield "fits", f"Fitted curves{whose}", lambda: plots.regression_fits(models, ds, r2)
    if _has_history(record):
        yield "training", _training_title(record), lambda: plots.training_curves(record)
    if any(r.get("sweep") for r in record["rungs"]):
        yield "sweep", "The sweep, with the spread over seeds", lambda: plots.sweep_errorbars(record)
    name, mlp = _first(run, MLP)
    if mlp is not None and ds.n_features == 2:
        n_hidden = sum(not isinstance(layer, nn.Linear) for layer in _module(mlp, MLP).layers)
        yield (f"hidden-units-{name}", f"What the hidden layers of '{name}' learned",
               lambda: plots.hidden_units(mlp, ds, layers=tuple(range(min(n_hidden, 2)))))


def _image_figures(run) -> Iterator[FigureJob]:
    record, ds = run.record, run.dataset
    yield "samples", "Sample digits", lambda: plots.sample_digits(ds)
    if _has_history(record):
        yield "accuracy-per-epoch", "Test accuracy per epoch", lambda: plots.accuracy_per_epoch(record)
    yield "final-accuracy", "Final test accuracy of every rung", lambda: plots.final_accuracy_bars(record)
    linear_name, linear = _first(run, LinearNet)
    cnn_name, cnn = _first(run, SimpleCNN)
    if linear is not None:
        yield "linear-templates", "The linear model's ten weight templates", lambda: plots.linear_templates(linear)
    if cnn is not None:
        image = ds.X_test[0]
        yield "cnn-filters", "The CNN's first-layer filters", lambda: plots.cnn_filters(cnn)
        yield ("cnn-activations", "What the CNN's layers see in one test digit",
               lambda: plots.cnn_activations(cnn, image, label=ds.y_test[0]))
        yield ("inside-cnn", "Inside the CNN: every layer, one pixel's dot product, a digit that moves",
               lambda: plots.inside_cnn(cnn, image, label=ds.y_test[0]))
    if linear is not None and cnn is not None:
        yield ("templates-vs-filters", "Whole-image templates against small local filters",
               lambda: plots.templates_vs_filters(linear, cnn))
    yield ("edge-maps", "Edge maps behind the hand-crafted gradient features",
           lambda: plots.edge_maps(ds.X_test[:5], edge_fn=edge_maps, labels=ds.y_test[:5]))
    yield "projections", "Digits in two dimensions: PCA and t-SNE", lambda: plots.projections(ds).figure
    pca_name, pca_rung = _pca_plane_rung(run)
    yield ("pca-regions", f"A linear classifier in the PCA plane ('{pca_name}')" if pca_rung else
           "A linear classifier in the PCA plane (refit on 2,000 digits)",
           lambda: plots.pca_decision_regions(ds, rung=pca_rung).figure)
    for name, model in ((linear_name, linear), (cnn_name, cnn)):
        if model is not None:
            yield (f"misclassified-{name}", f"The first test digits '{name}' gets wrong",
                   lambda model=model, name=name: plots.misclassified(model, ds, predicted=run.predictions[name]))
    yield ("confusion", "Confusion matrices",
           lambda: plots.confusion(finished(run), ds, predictions=run.predictions))


def _signal_figures(run) -> Iterator[FigureJob]:
    """Part 6's figures: the signals, every rung with its positions shuffled and not, the kernels."""
    from .data.signals import templates

    record, ds = run.record, run.dataset
    yield ("signals", "Signals of each class, and the templates they are made from",
           lambda: plots.signals_and_templates(ds, templates()))
    if _has_history(record):
        yield "accuracy-per-epoch", "Test accuracy per epoch", lambda: plots.accuracy_per_epoch(record)
    yield ("shuffled", "Every rung on the signals as made and on shuffled positions",
           lambda: plots.shuffled_accuracy_bars(record))
    name, cnn = _first(run, SignalCNN)
    if cnn is not None:
        yield "cnn-kernels", "The 1-D CNN's first-layer kernels", lambda: plots.cnn_kernels(cnn, name)


def _pca_plane_rung(run):
    """The name and fitted pipeline of the rung whose φ is a 2-D PCA, if the run has one."""
    for rung in run.record["rungs"]:
        features = rung.get("features") or {}
        if (features.get("kind") == "pca" and features.get("n_components", 2) == 2
                and rung["name"] in finished(run)):
            return rung["name"], run.models[rung["name"]]
    return None, None


def summary_figures(runs) -> Iterator[FigureJob]:
    """Figures about the whole run: MNIST's spread beside MNIST-1D's when both ran. (The full
    picture is no figure: the report writes it as an HTML table, from results.json.)"""
    by_name = {run.record["name"]: run.record for run in runs}
    if "mnist" in by_name and "mnist1d" in by_name:
        yield ("gap-grows", "The gap grows: MNIST's spread from logistic regression to the CNN beside MNIST-1D's",
               lambda: plots.spreads([by_name["mnist"], by_name["mnist1d"]]))


def figure_jobs(runs) -> list[tuple[str | None, str, str, Callable]]:
    """Every figure of the run as (experiment name or None for the run's own, slug, title, draw),
    in the order the report shows them."""
    jobs = [(run.record["name"], slug, title, draw)
            for run in runs for slug, title, draw in experiment_figures(run)]
    return jobs + [(None, slug, title, draw) for slug, title, draw in summary_figures(runs)]


def listed(runs, jobs: list, folder_name: str) -> tuple[dict[str, list[dict]], list[dict]]:
    """The figures `jobs` of `runs`, drawn into the folder `folder_name`, as (experiment name →
    its figures, the run-level figures), each as {"file": "<folder name>/<file>.png", "title": …}."""
    per_experiment: dict[str, list[dict]] = {run.record["name"]: [] for run in runs}
    summary: list[dict] = []
    for job in jobs:
        entry = {"file": f"{folder_name}/{file_name(job)}", "title": job[2]}
        (per_experiment[job[0]] if job[0] else summary).append(entry)
    return per_experiment, summary


def file_name(job) -> str:
    experiment, slug = job[0], job[1]
    return f"{experiment}-{slug}.png" if experiment else f"{slug}.png"


def figure_png(figure, dpi: int = 110) -> bytes:
    """A matplotlib Figure as the bytes of a PNG."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)  # layouts are constrained: no second "tight" pass
    return buffer.getvalue()


def render(draw: Callable) -> bytes:
    """The PNG of the figure that `draw()` makes."""
    with warnings.catch_warnings():
        # A figure's helper model (the PCA-plane classifier) may stop at max_iter: the picture stands.
        warnings.simplefilter("ignore", ConvergenceWarning)
        figure = draw()
    return figure_png(figure)


def draw_one(job, folder: Path) -> None:
    """Draw one figure of `figure_jobs` and save it into `folder`."""
    from .atomic import write_atomic

    write_atomic(folder / file_name(job), render(job[3]))


def count_figures(runs) -> int:
    return len(figure_jobs(runs))
