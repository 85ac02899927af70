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
# # 3. Images: handwritten digits, from a linear model to a CNN
#
# The toy ladders had two inputs. A 28×28 digit has 784, and a person can no longer guess the
# right features by looking at a scatter plot. This notebook climbs the same ladder on MNIST:
#
# 1. a linear model on the raw pixels: one weight template per digit;
# 2. an MLP, which learns its own features from the pixels;
# 3. a small CNN, which adds what images need: filters that look at neighbouring pixels and are
#    reused at every position.
#
# To keep the notebook quick it trains on the first 10,000 of the 60,000 training digits, for a
# few epochs. The full-size numbers (all 60,000 digits, every rung, every claim checked) come from
# the command line: `ladder run mnist`.

# %%
# %matplotlib inline
import time
from dataclasses import replace

from ladder import TorchClassifier, data, plots

# %% [markdown]
# ## The data
#
# `data.load("mnist")` finds MNIST on disk (`LADDER_DATA_DIR` or ladder's cache) or downloads
# it. Offline, it stands in scikit-learn's 8×8 digits and says so: everything below still runs.

# %%
ds = data.load("mnist")
if ds.fallback_for:
    print(ds.note)
print(f"{ds.name}: {len(ds.X_train):,} training and {len(ds.X_test):,} test images of "
      f"{ds.X_train.shape[1]}×{ds.X_train.shape[2]} pixels")

# %%
plots.sample_digits(ds)

# %% [markdown]
# Every model below reads an image as one row of pixels (784 numbers for MNIST). We keep the
# first 10,000 training digits and all the test digits.

# %%
small = replace(ds, X_train=ds.X_train[:10_000], y_train=ds.y_train[:10_000])


def rows(images):
    return images.reshape(len(images), -1)


X_train, y_train = rows(small.X_train), small.y_train
X_test, y_test = rows(small.X_test), small.y_test

# %% [markdown]
# ## How far apart are the digits?
#
# Squeeze the 784 pixels into two numbers with PCA and the classes pile on top of each other:
# two components keep only a small share of the pixel variance. t-SNE, which keeps neighbours
# together rather than variance, pulls most digits into their own islands: the information is in
# the pixels, but not along two straight directions.

# %%
plots.projections(small).figure

# %% [markdown]
# A linear model that sees only those two PCA components does poorly; it needs all the pixels.

# %%
plots.pca_decision_regions(small).figure

# %% [markdown]
# ## Three rungs
#
# The same estimator, `TorchClassifier`, with three modules: `nn.Linear(784, 10)` (softmax
# regression), an MLP 784-128-10, and the course's `SimpleCNN`. All three go through the same
# training loop: Adam with a one-cycle learning-rate schedule, mini-batches of 128, the uint8
# pixels scaled and standardised one batch at a time.

# %%
training = dict(optimizer="adam", schedule="onecycle", batch_size=128, random_state=0)
# As many steps on any data: the 8×8 stand-in has 1,347 training digits, so it gets more epochs.
passes = max(1, round(10_000 / len(X_train)))
models = {
    "linear": TorchClassifier(module="linear", epochs=3 * passes, lr=0.003, **training),
    "mlp": TorchClassifier(module="mlp", hidden=(128,), epochs=5 * passes, lr=0.003, **training),
    "cnn": TorchClassifier(module="cnn", epochs=2 * passes, lr=0.003, **training),
}
predictions = {}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    predictions[name] = model.predict(X_test)
    accuracy = (predictions[name] == y_test).mean()
    print(f"{name:7s} {model.n_params_:>8,} parameters   test accuracy {accuracy:.3f}   "
          f"fit {seconds:.1f} s")

# %% [markdown]
# ## What the linear model learned
#
# One weight per pixel per class: reshape each class's 784 weights into a 28×28 image and the
# model's whole idea of a digit is there. Red pixels vote for the class, blue against. It is one
# global template per digit: a 7 written a little to the left no longer matches it.

# %%
plots.linear_templates(models["linear"])

# %% [markdown]
# ## What the CNN learned
#
# The CNN's first layer is sixteen 3×3 filters, each slid over every position of the image.
# Many look like small edge and stroke detectors.

# %%
plots.cnn_filters(models["cnn"])

# %% [markdown]
# One test digit on its way through the network: each filter lights up where its pattern occurs
# (layer 1); the second layer, after pooling, combines them into larger parts of strokes.

# %%
plots.cnn_activations(models["cnn"], small.X_test[0], label=small.y_test[0])

# %% [markdown]
# ## Where they go wrong
#
# Some of the CNN's mistakes are digits a person would hesitate over too; others, a plain 2 read
# as an 8, show that 10,000 digits and two epochs are not the whole story.

# %%
plots.misclassified(models["cnn"], small, predicted=predictions["cnn"])

# %% [markdown]
# The confusion matrices show which digits each model mixes up (rows: true digit, columns:
# predicted). The linear model's errors spread over many pairs (4 and 9, 3 and 5, 7 and 9); the
# CNN's shrink to a few.

# %%
plots.confusion(models, small, predictions=predictions)

# %% [markdown]
# On MNIST, with 10,000 training digits and a few epochs, the order is already linear < MLP <
# CNN. The full run, `ladder run mnist`, trains on all 60,000 digits and checks the course's
# numbers: about 92% for the linear model, 97% for the MLP, 99% for the CNN, and hand-crafted
# features (ink, symmetry, edges, profiles) below the raw pixels they were computed from.
