"""Digits squeezed into two dimensions: PCA and t-SNE pictures, and how little a linear model can
do in the PCA plane. Both return the figure with the numbers it shows, so they can become claims."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from sklearn.decomposition import PCA
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._common import class_colors, fmt_metric, new_figure, rows
from .toys import GRID


@dataclass
class Projection:
    """The PCA / t-SNE figure and the share of pixel variance the two PCA components explain."""
    figure: Figure
    explained_variance: float  # sum of the two ratios, ≈ 0.17 on MNIST
    explained_variance_ratio: np.ndarray  # shape (2,)


@dataclass
class PCARegions:
    """The decision-regions figure and the test accuracy of logistic regression in the PCA plane."""
    figure: Figure
    test_accuracy: float  # ≈ 0.42 on MNIST
    explained_variance: float


#: How many training digits the projections show: the first ones (the split is shuffled).
PROJECTED = 2000


def _train_subset(ds, n):
    """The first n training images as float rows: the training split is already shuffled."""
    return rows(ds.X_train[:n]).astype(np.float64), np.asarray(ds.y_train[:n])


def _pca(X, seed) -> PCA:
    # Eigenvectors of the pixel covariance: exact, deterministic, and fast when rows outnumber
    # pixels (2000 × 784); a full SVD of the rows costs several times more.
    return PCA(n_components=2, svd_solver="covariance_eigh", random_state=seed).fit(X)


def _scatter_digits(ax, Z, y, size=4):
    classes = np.unique(y)
    colors = np.array(class_colors(len(classes)))
    ax.scatter(Z[:, 0], Z[:, 1], c=colors[np.searchsorted(classes, y)], s=size, alpha=0.8, linewidths=0)


def _class_legend(fig, ax, y):
    """One legend for the whole figure, below the panels, so it never hides points."""
    classes = np.unique(y)
    handles = [ax.scatter([], [], color=c, s=24, label=str(k)) for k, c in zip(classes, class_colors(len(classes)))]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(10, len(classes)), fontsize=9,
               handletextpad=0.1, columnspacing=0.9, frameon=False)


def tsne_embedding(ds, n: int = PROJECTED, seed: int = 0, tsne_iter: int = 500) -> np.ndarray:
    """t-SNE coordinates (n, 2) of the first `n` training digits: the slow part of `projections`.

    `tsne_iter` optimisation steps, the first 250 of them spent pulling clusters apart, 500 being
    enough for the picture to settle. Computed on 50 PCA components: the same picture as on raw
    pixels, several times faster.
    """
    X, _ = _train_subset(ds, n)
    X50 = PCA(n_components=min(50, *X.shape), random_state=seed).fit_transform(X)
    # angle 0.8: a coarser Barnes-Hut approximation, a quarter faster, the same picture at this size
    return TSNE(n_components=2, init="pca", perplexity=min(30.0, (len(X) - 1) / 3),
                max_iter=max(250, tsne_iter), angle=0.8, random_state=seed).fit_transform(X50)


def projections(ds, n: int = PROJECTED, seed: int = 0, tsne: bool = True, tsne_iter: int = 500,
                embedding: np.ndarray | None = None) -> Projection:
    """PCA (and, with `tsne`, t-SNE) projections of the first `n` training digits coloured by
    class; the PCA panel's title gives the variance its two components explain.

    t-SNE takes seconds for 2,000 digits: pass `embedding` (from `tsne_embedding`) when it was
    computed beforehand, for example in the background while other figures were drawn.
    """
    X, y = _train_subset(ds, n)
    pca = _pca(X, seed)
    explained = float(pca.explained_variance_ratio_.sum())
    fig, axes = new_figure(2 if tsne else 1, panel=(4.6, 4.3))
    ax = axes[0, 0]
    _scatter_digits(ax, pca.transform(X), y)
    ax.set(xlabel="PC 1", ylabel="PC 2", xticks=[], yticks=[],
           title=f"PCA: 2 components explain {explained:.1%}\nof the pixel variance")
    if tsne:
        Z = embedding if embedding is not None else tsne_embedding(ds, n, seed, tsne_iter)
        _scatter_digits(axes[0, 1], Z, y)
        axes[0, 1].set(xticks=[], yticks=[], title=f"t-SNE of {len(X)} training digits")
    _class_legend(fig, ax, y)
    return Projection(fig, explained, pca.explained_variance_ratio_.copy())


def _find_pca(step) -> PCA:
    """The PCA inside a (possibly nested) Pipeline."""
    if isinstance(step, PCA):
        return step
    for _, inner in getattr(step, "steps", []):
        found = _find_pca(inner)
        if found is not None:
            return found
    return None


def pca_decision_regions(ds, n: int = 2000, seed: int = 0, rung=None) -> PCARegions:
    """A linear classifier's decision regions in the 2-D PCA plane and its accuracy on the whole
    test split, with the first `n` training digits drawn in that plane.

    `rung` is a fitted rung of a run (a Pipeline: φ into two dimensions, then a linear
    classifier): its regions and accuracy are drawn, the very numbers of the results table.
    Without it a logistic regression is fitted on the first `n` training digits, and the title
    says so.
    """
    if rung is not None:
        phi, model = rung[:-1], rung[-1]
        X, y = rows(ds.X_train[:n]), np.asarray(ds.y_train[:n])
        Z = phi.transform(X)
        accuracy = float(rung.score(rows(ds.X_test), ds.y_test))
        pca = _find_pca(phi)
        how = "the rung scored in the results table"
    else:
        X, y = _train_subset(ds, n)
        pca = _pca(X, seed)
        Z = pca.transform(X)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(Z, y)
        accuracy = float(model.score(pca.transform(rows(ds.X_test).astype(np.float64)), ds.y_test))
        how = f"refit on {len(X):,} training digits"
    fig, axes = new_figure(panel=(5.4, 4.8))
    ax = axes[0, 0]
    DecisionBoundaryDisplay.from_estimator(model, Z, grid_resolution=GRID, response_method="predict",
                                           multiclass_colors=class_colors(len(np.unique(y))),
                                           alpha=0.35, ax=ax)
    _scatter_digits(ax, Z, y, size=3)
    ax.set(xlabel="PC 1", ylabel="PC 2", xticks=[], yticks=[])
    _class_legend(fig, ax, y)
    ax.set_title(f"Logistic regression in the 2-D PCA plane\n{fmt_metric('test_accuracy', accuracy)} "
                 f"({how})", fontsize=10)
    return PCARegions(fig, accuracy, float(pca.explained_variance_ratio_.sum()))
