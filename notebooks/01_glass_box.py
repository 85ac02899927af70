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
# # 1. The glass box: fitting y = 2x by hand
#
# Four points on the line y = 2x, at x = 1, 2, 3, 4. We fit them four times, each time with one
# layer of machinery less hidden:
#
# 1. scikit-learn's `LinearRegression`, which solves the least-squares equations directly;
# 2. two tensors `w` and `b`, and gradient descent written out step by step;
# 3. PyTorch's `nn.Linear` with the `torch.optim.SGD` optimizer;
# 4. ladder's estimators, which wrap that same loop so it works like any scikit-learn model.
#
# Then we break the loop on purpose, to see why one of its five steps is there.

# %%
# %matplotlib inline
import inspect
import re

import torch
from sklearn.linear_model import LinearRegression
from torch import nn

import ladder
from ladder import data, plots
from ladder.glassbox import GlassBoxLinearRegression

# %% [markdown]
# The data: four points, no noise, no held-out split (`test_size=0`): this lesson is about
# fitting, not about generalising.

# %%
line = data.load("line", n=4, low=1, high=4, grid=True, slope=2, test_size=0)
X, y = line.X_train, line.y_train
X.ravel(), y

# %% [markdown]
# ## scikit-learn: the answer in one step
#
# `LinearRegression` solves the normal equations exactly: it predicts 2, 4, 6, 8 and finds
# w = 2, b = 0.

# %%
sk = LinearRegression().fit(X, y)
sk.predict(X), sk.coef_, sk.intercept_

# %% [markdown]
# ## By hand: two tensors and five steps
#
# A neural network gets there by gradient descent instead. `requires_grad=True` asks PyTorch to
# record how the loss is computed from `w` and `b`, so that `loss.backward()` can fill in
# `w.grad` and `b.grad`. The update itself must not be recorded (it is not part of the model),
# hence `torch.no_grad()`. And PyTorch *adds* each new gradient to the one already in `.grad`,
# so we zero them by hand after each step.

# %%
X_t = torch.tensor(X, dtype=torch.float32)
y_t = torch.tensor(y, dtype=torch.float32).reshape(-1, 1)

torch.manual_seed(0)
w = torch.randn(1, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.01
for epoch in range(1000):
    loss = ((X_t @ w.T + b - y_t) ** 2).mean()  # 1. forward  2. loss (mean squared error)
    loss.backward()                             # 3. backward: fills w.grad and b.grad
    with torch.no_grad():                       # 4. step: move against the gradient
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad.zero_()                              # 5. zero the gradients for the next step
    b.grad.zero_()
print(f"w = {w.item():.4f}, b = {b.item():.4f}, loss = {loss.item():.2e}")

# %% [markdown]
# w ends close to 2 and b close to 0: not exactly, because gradient descent creeps towards the
# answer and stops after a fixed number of steps.
#
# ## nn.Linear and an optimizer: the same five steps, packaged
#
# `nn.Linear(1, 1)` holds `w` and `b` for us (as `weight` and `bias`); `torch.optim.SGD` does
# the update of step 4 and the zeroing of step 5.

# %%
torch.manual_seed(0)
model = nn.Linear(1, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
loss_fn = nn.MSELoss()
for epoch in range(1000):
    loss = loss_fn(model(X_t), y_t)  # 1. forward  2. loss
    loss.backward()                  # 3. backward
    optimizer.step()                 # 4. step
    optimizer.zero_grad()            # 5. zero_grad
print(f"w = {model.weight.item():.4f}, b = {model.bias.item():.4f}, loss = {loss.item():.2e}")

# %% [markdown]
# ## ladder: the loop as a scikit-learn estimator
#
# ladder has this loop once, in `ladder.train`. Here are its five steps (the whole function, with
# mini-batches, schedules and the rest, is one `train??` away):

# %%
from ladder.train import train

source = inspect.getsource(train)
for code in source.splitlines():
    if re.search(r"# [1-5]\.", code):
        statement, step = code.split("#", 1)
        print(f"{statement.strip():38s}#{step}")

# %% [markdown]
# `TorchRegressor(module="linear")` runs `nn.Linear` through that loop; `GlassBoxLinearRegression`
# is the by-hand version above, packaged as an estimator. Both start from the same random `w` and
# `b` (the ones `nn.Linear` draws for that seed), so they follow each other step for step: all
# that `nn.Linear` and SGD do is what we wrote by hand. They also land exactly where our own
# `nn.Linear` loop above did, which started from the same seed.

# %%
torch_model = ladder.TorchRegressor(module="linear", optimizer="sgd", lr=0.01, epochs=1000,
                                    random_state=0).fit(X, y)
by_hand = GlassBoxLinearRegression(lr=0.01, epochs=1000, random_state=0).fit(X, y)

w_torch = torch_model.module_.linear.weight.item()
w_hand = by_hand.weight_.item()
print(f"TorchRegressor:            w = {w_torch:.6f}, final loss = {torch_model.history_['loss'][-1]:.3e}")
print(f"GlassBoxLinearRegression:  w = {w_hand:.6f}, final loss = {by_hand.history_['loss'][-1]:.3e}")
print(f"our nn.Linear loop:        w = {model.weight.item():.6f}")

# %%
plots.regression_fits({"LinearRegression": sk, "TorchRegressor": torch_model,
                       "GlassBoxLinearRegression": by_hand}, line)

# %% [markdown]
# ## Break the loop: leave out zero_grad
#
# What is step 5 for? Leave it out (`zero_grad=False`) and every `backward()` adds its gradient
# to all the earlier ones: each step pushes with the sum of every gradient so far. The updates
# grow and overshoot: the loss swings up and down instead of settling, and with a larger learning
# rate it runs off to infinity. Same data, same model, same learning rate, one line missing.

# %%
histories = {}
for zero_grad in (True, False):
    fitted = ladder.TorchRegressor(module="linear", optimizer="sgd", lr=0.01, epochs=200,
                                   zero_grad=zero_grad, random_state=0).fit(X, y)
    histories[f"zero_grad={zero_grad}"] = fitted.history_
    print(f"zero_grad={zero_grad}: final loss {fitted.history_['loss'][-1]:.3g}")

# %%
plots.training_curves(histories)

# %% [markdown]
# The same lessons run as experiments from the command line, every sentence a checked claim:
#
# ```
# ladder run line break-the-loop
# ```
