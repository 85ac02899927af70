"""One function per figure: each takes fitted models, a Dataset or results records and returns a
matplotlib Figure (never shown, never saved: the caller decides where it goes).

Toys: `dataset`, `decision_boundaries`, `regression_fits`, `hidden_units`.
Sweeps: `sweep_errorbars`.
Training: `training_curves`, `accuracy_per_epoch`, `final_accuracy_bars`, `full_picture`.
Images: `sample_digits`, `linear_templates`, `cnn_filters`, `templates_vs_filters`,
`cnn_activations`, `inside_cnn`, `edge_maps`, `misclassified`, `confusion`, `projections`,
`pca_decision_regions` (the last two return the figure with the numbers they show).
Moved digits (part 5): `robustness_curves`, `moved_digit`.
Signals (part 6): `signals_and_templates`, `shuffled_accuracy_bars`, `cnn_kernels`, `spreads`.
"""

from .images import (cnn_activation_maps, cnn_activations, cnn_filter_weights, cnn_filters, confusion,
                     edge_maps, gradient_magnitude, linear_templates, linear_weights, misclassified,
                     sample_digits, templates_vs_filters)
from .inside_cnn import inside_cnn
from .moved import moved_digit, probe_curves, robustness_curves
from .projections import PCARegions, Projection, pca_decision_regions, projections, tsne_embedding
from .signals import cnn_kernels, kernel_weights, shuffled_accuracy_bars, signals_and_templates, spreads
from .sweeps import sweep_errorbars
from .toys import dataset, decision_boundaries, hidden_units, regression_fits, true_function
from ..full_picture import best_rungs, rung_family
from .training import accuracy_per_epoch, final_accuracy_bars, full_picture, mean_curve, training_curves

__all__ = [
    "dataset", "decision_boundaries", "regression_fits", "hidden_units", "true_function",
    "sweep_errorbars", "training_curves", "accuracy_per_epoch", "final_accuracy_bars", "full_picture",
    "best_rungs",
    "rung_family", "mean_curve",
    "sample_digits", "linear_templates", "linear_weights", "cnn_filters", "cnn_filter_weights",
    "templates_vs_filters", "cnn_activations", "cnn_activation_maps", "inside_cnn", "edge_maps",
    "gradient_magnitude", "misclassified", "confusion",
    "projections", "pca_decision_regions", "tsne_embedding", "Projection", "PCARegions",
    "robustness_curves", "moved_digit", "probe_curves",
    "signals_and_templates", "shuffled_accuracy_bars", "cnn_kernels", "kernel_weights", "spreads",
]
