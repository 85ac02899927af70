"""Inside the CNN, for the report: the pictures of the playground's digit tab, on one test digit.

Every layer from the input to the ten scores with its shape and parameter arithmetic, the dot
product behind the brightest pixel of conv1, and the same digit moved a few pixels with the map
that moves along (ladder.inside computes them all; this module only draws).
"""

from __future__ import annotations

import textwrap

import numpy as np

from .. import inside
from ..models import SimpleCNN
from ._common import blank_figure, rows, torch_inputs, torch_module

SHOWN = 8  # maps per layer: one row, enough to see what a layer does without 32 panels


def _maps_row(sub, values: np.ndarray, title: str, caption: str) -> None:
    """One layer: its first SHOWN maps on the layer's own scale, a title and what to look for."""
    n = min(SHOWN, len(values))
    axes = sub.subplots(1, SHOWN, squeeze=False)[0]
    top = float(values.max()) or 1.0
    for k, ax in enumerate(axes):
        ax.set(xticks=[], yticks=[])
        if k < n:
            ax.imshow(values[k], cmap="magma", vmin=0, vmax=top, interpolation="nearest")
        else:
            ax.axis("off")
    more = f" (the first {n} of {len(values)} maps)" if len(values) > n else ""
    sub.suptitle(title + more, fontsize=9, ha="left", x=0.01)
    sub.supxlabel(textwrap.fill(caption, 150), fontsize=8)


def _strip(sub, values: np.ndarray, title: str, caption: str, scores: bool = False) -> None:
    ax = sub.subplots()
    if scores:
        ax.bar(range(len(values)), values, color="#0877bd")
        ax.set_xticks(range(len(values)))
        ax.axhline(0, color="#888", linewidth=0.5)
    else:
        ax.imshow(values, cmap="magma", vmin=0, vmax=float(values.max()) or 1.0, interpolation="nearest",
                  aspect="auto")
        ax.set(xticks=[], yticks=[])
    sub.suptitle(title, fontsize=9, ha="left", x=0.01)
    sub.supxlabel(textwrap.fill(caption, 150), fontsize=8)


def _numbers(ax, values: np.ndarray, title: str) -> None:
    """A 3×3 grid of numbers, coloured by sign."""
    limit = float(np.abs(values).max()) or 1.0
    ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8)
    ax.set(xticks=[], yticks=[], title=title)


def inside_cnn(estimator, image, label=None, shift: int = 3):
    """One test digit through every layer of a fitted SimpleCNN rung, one pixel's dot product
    written out, and the digit moved `shift` pixels right with its conv1 map."""
    module, _ = torch_module(estimator, SimpleCNN)
    module.eval()
    image = np.asarray(image).reshape(28, 28)
    x = torch_inputs(estimator, rows(image[None])).float()
    outputs = {k: v.float().cpu().numpy() for k, v in inside.layer_outputs(module, x).items()}
    table = inside.arithmetic(module)

    def title(name: str) -> str:
        row = table[name]
        return f"{name} · {row['layer']} · output {row['shape']} · {row['arithmetic']}"

    fig = blank_figure(11.0, 17.0)
    parts = fig.subfigures(10, 1, height_ratios=[1.6, 1.3, 1.3, 1.3, 1.3, 1.5, 1.0, 1.4, 2.2, 2.0])
    head = parts[0].subplots(1, SHOWN, squeeze=False)[0]
    head[0].imshow(image, cmap="gray_r", interpolation="nearest")
    for ax in head:
        ax.set(xticks=[], yticks=[])
    for ax in head[1:]:
        ax.axis("off")
    parts[0].suptitle(title("input") + ("" if label is None else f" · label {label}"), fontsize=9, ha="left", x=0.01)
    parts[0].supxlabel(inside.CAPTIONS["input"], fontsize=8)
    for sub, name in zip(parts[1:5], ("conv1", "pool1", "conv2", "pool2")):
        _maps_row(sub, outputs[name], title(name), inside.CAPTIONS[name])
    n_maps = outputs["pool2"].shape[0]
    _strip(parts[5], outputs["flatten"].reshape(n_maps, -1), title("flatten") + " (one row per map)",
           inside.CAPTIONS["flatten"])
    _strip(parts[6], outputs["fc1"].reshape(8, -1), title("fc1") + " (as 8×16)", inside.CAPTIONS["fc1"])
    _strip(parts[7], outputs["fc2"], title("fc2"), inside.CAPTIONS["fc2"], scores=True)

    conv1 = outputs["conv1"]
    channel, row, col = np.unravel_index(int(conv1.argmax()), conv1.shape)
    told = inside.dot_product(module, x, "conv1", int(channel), int(row), int(col))
    kernel, patch = np.array(told["kernel"][0]), np.array(told["patch"][0])
    axes = parts[8].subplots(1, 3, width_ratios=[1, 1, 2.6])
    _numbers(axes[0], kernel, f"conv1 map {channel}'s kernel")
    _numbers(axes[1], patch, f"the input under it at ({row}, {col})")
    terms = " + ".join(f"{w:.2f}×{v:.2f}" for w, v in zip(kernel.ravel(), patch.ravel()))
    axes[2].axis("off")
    axes[2].text(0, 0.5, textwrap.fill(f"{terms} + bias {told['bias']:.2f} = {told['sum']:.2f}", 70)
                 + f"\nReLU → {told['output']:.2f}, the brightest pixel of conv1", fontsize=8,
                 va="center", family="monospace")
    parts[8].suptitle("The convolution with its numbers: one pixel of a map is the dot product of a "
                      "3×3 kernel with the 3×3 of input under it, plus a bias, through a ReLU",
                      fontsize=9, ha="left", x=0.01)

    moved = inside.moved(image.astype(np.uint8), dx=shift)
    moved_map = inside.layer_outputs(module, torch_inputs(estimator, rows(moved[None])).float())["conv1"]
    moved_map = moved_map[channel].float().cpu().numpy()
    axes = parts[9].subplots(1, 4)
    top = max(float(conv1[channel].max()), float(moved_map.max())) or 1.0
    for ax, picture, what, cmap in ((axes[0], image, "the digit", "gray_r"),
                                    (axes[1], conv1[channel], f"conv1 map {channel}", "magma"),
                                    (axes[2], moved, f"moved {shift} px right", "gray_r"),
                                    (axes[3], moved_map, f"conv1 map {channel}, moved", "magma")):
        ax.imshow(picture, cmap=cmap, interpolation="nearest", **({"vmin": 0, "vmax": top} if cmap == "magma" else {}))
        ax.set(xticks=[], yticks=[], title=what)
    parts[9].suptitle(f"A digit that moves: shifted {shift} pixels, the map moves {shift} pixels with it "
                      "(a linear model's template stays where it is)", fontsize=9, ha="left", x=0.01)
    return fig
