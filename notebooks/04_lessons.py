# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Glass-box lessons: lines, bends, depth and width
#
# Four short experiments from the course, each a built-in ladder experiment with its claims:
#
# 1. **pass-fail**: logistic regression draws a straight line between two clusters;
# 2. **circles-small**: a small MLP bends that line into a closed curve;
# 3. **noisy-circles**: depth without activations is still a line; width decides how much an
#    MLP can bend, and a big one bends around the noise too;
# 4. **blobs5**: five classes, one output per class and a softmax.

# %%
# %matplotlib inline
from ladder import plots
from ladder.tables import claims_summary, results_table
from ladder.experiments import resolve
from ladder.runner import run_experiment
from rich import print as rprint


def run(name):
    """Run a built-in experiment with seed 0; show its table and its claims, ✓ or ✗."""
    result = run_experiment(resolve(name), seeds=[0])
    rprint(results_table(result.record))
    rprint(claims_summary(result.record))
    return result


def pick(models, *names):
    return {name: models[name] for name in names}


# %% [markdown]
# ## 1. A line between two clusters
#
# Two clouds of 100 students each (hours studied, hours slept, say): who passes and who fails.
# Logistic regression learns w₁, w₂ and b; the decision line is where w₁·x₁ + w₂·x₂ + b = 0. On
# one side σ(·) > 0.5, pass; on the other, fail.

# %%
pass_fail = run("pass-fail")
for rung in pass_fail.record["rungs"]:
    w1, w2, b = (rung["metrics"][key]["mean"] for key in ("w1", "w2", "b"))
    print(f"{rung['name']:13s} w = ({w1:.2f}, {w2:.2f}), b = {b:.2f}:  "
          f"the line x₂ = {-w1 / w2:.2f}·x₁ + {-b / w2:.2f}")

# %% [markdown]
# The two lines nearly agree, but their w and b do not: PyTorch's are about half as long. Plain
# gradient descent has taken 1,000 small steps and w is still growing (it keeps growing with more
# epochs), while scikit-learn solved its problem, regularised with C = 1, to the end. Scaling w and
# b together moves nothing: it only sets how steeply σ rises across the line.

# %%
plots.decision_boundaries(pass_fail.models, pass_fail.dataset)

# %% [markdown]
# ## 2. A small MLP bends the line
#
# A hundred points on two circles. Logistic regression cannot separate them; an MLP 2-100-10-1
# trained with plain SGD can. This lesson is about fitting: both are scored on the hundred points
# they were fitted on.

# %%
circles_small = run("circles-small")
plots.decision_boundaries(circles_small.models, circles_small.dataset)

# %% [markdown]
# ## 3. Depth without activations is still a line
#
# Stack two linear layers with 500 hidden units and nothing between them: W₂(W₁x + b₁) + b₂ is one
# matrix times x plus a vector, so the boundary stays straight however wide the middle.
# `boundary_linearity` measures it: the share of the plane that a single fitted line labels the
# same way as the model (1 means a line). Put a ReLU in between and the boundary bends.

# %%
noisy = run("noisy-circles")
plots.decision_boundaries(pick(noisy.models, "stacked-linear", "mlp"), noisy.dataset)

# %%
for rung in noisy.record["rungs"]:
    print(f"{rung['name']:15s} boundary_linearity {rung['metrics']['boundary_linearity']['mean']:.3f}")

# %% [markdown]
# How much can an MLP bend? Each ReLU unit adds one fold, so the width sets how many corners the
# boundary can have: with 2 hidden units this run still draws a line, 3 close a triangle, 5 and
# 10 round it towards the circle. A deeper MLP (two layers of 50, trained for 5,000 epochs) has
# room to spare and bends around the noise in its training points: its boundary follows the
# particular sample, not the circles it was drawn from, and its test accuracy falls back.

# %%
sweep = pick(noisy.models, "mlp-width-2", "mlp-width-3", "mlp-width-5", "mlp-width-10", "mlp-deep")
plots.decision_boundaries(sweep, noisy.dataset, ncols=5)

# %% [markdown]
# ## 4. Five classes
#
# With more than two classes the network ends in one output per class, a softmax turns them into
# probabilities, and cross-entropy is the loss. An MLP 2-100-10-10-5 sorts five blobs.

# %%
blobs = run("blobs5")
plots.decision_boundaries(blobs.models, blobs.dataset)

# %%
plots.training_curves(blobs.record)

# %% [markdown]
# Every lesson here runs from the command line too, with several seeds:
#
# ```
# ladder run pass-fail circles-small noisy-circles blobs5 --seeds 3
# ```
