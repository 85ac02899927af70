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
# # 2. The toy ladders: circles, a sine wave, spirals
#
# Three small problems, and on each the same climb:
#
# | rung | math | what it does |
# | --- | --- | --- |
# | linear | y = θ·x | draws a straight line |
# | hand-made features | y = θ·φ(x) | the same line, bent by features φ a person chose (x², x⁵, …) |
# | MLP | y = W₂σ(W₁x) | hidden layers learn φ from the data |
#
# Each problem is a built-in ladder experiment (the same ones `ladder run` runs): a dataset, the
# rungs, and the course's claims about them, each checked against the measured numbers. The
# notebook runs each one with a single seed and draws what the models learned.

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


# %% [markdown]
# ## Part 1, classification: two circles
#
# One ring of points inside another. Look at the data first: which line would you draw?

# %%
circles = run("circles")
plots.dataset(circles.dataset)

# %% [markdown]
# No line separates them. Logistic regression (in scikit-learn and in PyTorch alike: it is the
# same model) draws one anyway and gets about half right. Give it the squares x₁², x₁·x₂, x₂² as
# extra features and the very same linear model draws a circle. The MLP gets no such hint: it
# finds a closed boundary from the two raw coordinates.

# %%
plots.decision_boundaries(circles.models, circles.dataset)

# %% [markdown]
# How does the MLP do it? Each hidden unit of its first layer is a line with a ReLU: zero on one
# side, growing on the other. The second layer adds such half-planes up into the closed shape.

# %%
plots.hidden_units(circles.models["mlp"], circles.dataset)

# %%
plots.training_curves(circles.record)

# %% [markdown]
# ## Part 2, regression: a noisy sine wave
#
# Now the target is a number. A straight line cannot follow a wave: its R² is near 0, the same as
# always predicting the mean. The powers x, x², …, x⁵ bend the line into the wave; the MLP (tanh
# units this time) finds the curve from x alone.

# %%
sine = run("sine")
plots.regression_fits(sine.models, sine.dataset)

# %%
plots.training_curves(sine.record)

# %% [markdown]
# ## Part 3, harder classification: two spirals
#
# Two spirals wound into each other. Polynomial features rescued the circles, because a person
# guessed the right shape. Here a guess of degree 6 (27 features) lifts a line from about 55% to
# about 70%, far from solved: the boundary winds around the origin, and no low-degree polynomial
# follows it. The MLP learns it from the raw
# coordinates.

# %%
spirals = run("spirals")
plots.dataset(spirals.dataset)

# %%
plots.decision_boundaries(spirals.models, spirals.dataset)

# %% [markdown]
# The MLP has two hidden layers. The first still draws lines; the second combines them into
# regions that already follow the arms of the spirals.

# %%
plots.hidden_units(spirals.models["mlp"], spirals.dataset, layers=(0, 1))

# %%
plots.training_curves(spirals.record)

# %% [markdown]
# ## The full picture
#
# On each problem, the best rung with hand-made features against the best rung that learned its
# own. Hand-made features win when a person guesses φ right (a circle is x₁² + x₂²); they stop
# scaling when the shape gets harder to guess. That is where learned features take over, and the
# image notebook (`03_images`) takes the same step on real data.

# %%
plots.full_picture([circles.record, sine.record, spirals.record])

# %% [markdown]
# From the command line, with three seeds and every claim checked on the mean:
#
# ```
# ladder run circles sine spirals --seeds 3
# ```
