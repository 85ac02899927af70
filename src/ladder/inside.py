"""Inside the CNN: every layer's output for one digit, and the dot product behind one map pixel.

A SimpleCNN reads a 28×28 digit in seven steps, each a picture here:

    input 1×28×28 → conv1 (+ReLU) 16×28×28 → pool 16×14×14 → conv2 (+ReLU) 32×14×14
    → pool 32×7×7 → flatten 1,568 → fc1 (+ReLU) 128 → fc2: the ten scores

Each step carries the shape detective's row (ladder.anatomy: output shape and parameter
arithmetic), so the playground's digit tab and the report's figure show the numbers beside the
pictures. `moved` shifts and
turns a digit with ladder.augment, the same resampling as part 5's probes.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .anatomy import layers as anatomy_rows
from .augment import move

MAX_SHIFT, MAX_TURN = 4, 30  # pixels and degrees: part 5 probes up to 4 pixels and 30°
CONVS = ("conv1", "conv2")

#: One sentence per picture: what to look for in it.
CAPTIONS = {
    "input": "The drawing as the models see it: 28×28 grey pixels, centred as MNIST's digits are.",
    "conv1": "Each of the 16 maps is one 3×3 filter slid over the digit: bright where the strokes "
             "have the edge or slant that filter looks for, and they move when the digit moves.",
    "pool1": "Max-pooling keeps the strongest answer of each 2×2 square: the same maps at half the "
             "size, so a stroke one pixel further along gives much the same picture.",
    "conv2": "Each of the 32 maps combines all 16 pooled maps with its own 16 filters: parts of "
             "digits (loops, corners, line ends) rather than single edges.",
    "pool2": "Pooled again, 7×7 per map: where in the digit each part was found, roughly.",
    "flatten": "The 32 maps laid end to end, one row per map: 1,568 numbers, the first place where "
               "the picture stops being a picture.",
    "fc1": "128 hidden units, each a weighted sum of all 1,568 numbers: which parts, and where.",
    "fc2": "Ten scores, one per digit; the softmax of these is the CNN's prediction.",
}


def moved(image: np.ndarray, dx: float = 0, dy: float = 0, degrees: float = 0) -> np.ndarray:
    """A uint8 28×28 digit shifted `dx` pixels right, `dy` down and turned `degrees` anticlockwise."""
    if not (dx or dy or degrees):
        return image
    x = torch.from_numpy(np.ascontiguousarray(image)).float()[None]
    out = move(x, torch.tensor([float(dx)]), torch.tensor([float(dy)]), torch.tensor([float(degrees)]))
    return out[0].round().clamp(0, 255).to(torch.uint8).numpy()


def layer_outputs(cnn, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every step of SimpleCNN.forward on one normalised (1, 1, 28, 28) input, each without its batch axis.

    ReLU comes before pooling here and after it in SimpleCNN.features: the two commute (both are
    monotone), so these are the very values the model computes.
    """
    with torch.inference_mode():
        conv1 = torch.relu(cnn.conv1(x))
        pool1 = cnn.pool(conv1)
        conv2 = torch.relu(cnn.conv2(pool1))
        pool2 = cnn.pool(conv2)
        flat = pool2.flatten(1)
        fc1 = torch.relu(cnn.fc1(flat))
        scores = cnn.fc2(fc1)
    return {"input": x[0], "conv1": conv1[0], "pool1": pool1[0], "conv2": conv2[0], "pool2": pool2[0],
            "flatten": flat[0], "fc1": fc1[0], "fc2": scores[0]}


def _picture(values: torch.Tensor) -> np.ndarray:
    """uint8 of a layer's outputs, 0 to the layer's largest value: one scale for all its maps, so
    a faint map looks faint. fc2's scores can be negative: there 128 is zero."""
    if values.min() < 0:
        scale = values.abs().max().clamp_min(1e-6)
        return ((values / scale + 1) * 127.5).round().to(torch.uint8).numpy()
    return (values / values.max().clamp_min(1e-6) * 255).round().to(torch.uint8).numpy()


def arithmetic(cnn) -> dict[str, dict]:
    """The shape detective's rows (ladder.anatomy.layers) under this module's step names."""
    rows = [r for r in anatomy_rows(cnn, (28, 28)) if r["name"] != "total"]
    names = ["conv1", "pool1", "conv2", "pool2", "flatten", "fc1", "fc2"]
    if [r["name"] for r in rows] != ["conv1", "pool", "conv2", "pool", "flatten", "fc1", "fc2"]:
        raise ValueError(f"not a SimpleCNN: its layers are {', '.join(r['name'] for r in rows)}")
    table = {"input": {"layer": "image", "shape": "1×28×28", "params": 0, "arithmetic": "28·28 = 784 pixels"}}
    for name, row in zip(names, rows):
        table[name] = {k: row[k] for k in ("layer", "shape", "params", "arithmetic")}
    return table


def layers(cnn, x: torch.Tensor, table: dict[str, dict] | None = None,
           outputs: dict[str, torch.Tensor] | None = None) -> list[dict]:
    """One entry per step: its name, the anatomy row, a caption and its outputs as a uint8 grid.

    Map layers come as (channels, H, W), flatten as (32, 49) (one row per map), fc1 as (8, 16),
    the scores as (1, 10). `outputs`: layer_outputs(cnn, x), when the caller has them already.
    """
    table = table or arithmetic(cnn)
    outputs = outputs if outputs is not None else layer_outputs(cnn, x)
    shaped = {"flatten": outputs["flatten"].reshape(outputs["pool2"].shape[0], -1),
              "fc1": outputs["fc1"].reshape(8, -1), "fc2": outputs["fc2"][None]}
    entries = []
    for name, values in outputs.items():
        picture = shaped.get(name, values)
        entries.append({"name": name, **table[name], "caption": CAPTIONS[name], "grid": _picture(picture)})
    return entries


def dot_product(cnn, x: torch.Tensor, layer: str, channel: int, row: int, col: int) -> dict:
    """How map `channel` of `layer` got its value at (row, col): the kernels, the patch of the
    layer's input they were laid on, the products, the bias, their sum and the ReLU of it.

    For conv1 the input is the normalised drawing (one channel); for conv2 it is the 16 pooled
    conv1 maps, so the sum runs over 16 kernels of 3×3.
    """
    conv = getattr(cnn, layer)
    outputs = layer_outputs(cnn, x)
    inputs = outputs["input"] if layer == "conv1" else outputs["pool1"]
    (kh, kw), (ph, pw) = conv.kernel_size, conv.padding
    padded = F.pad(inputs, (pw, pw, ph, ph))
    patch = padded[:, row:row + kh, col:col + kw]
    kernel = conv.weight.detach()[channel]
    products = patch * kernel
    bias = float(conv.bias.detach()[channel]) if conv.bias is not None else 0.0
    per_channel = products.sum(dim=(1, 2))
    total = float(per_channel.sum()) + bias
    scale = kernel.abs().max().clamp_min(1e-12)
    return {"type": "conv", "layer": layer, "map": channel, "row": row, "col": col,
            "kernel": kernel.tolist(), "patch": patch.tolist(), "per_channel": per_channel.tolist(),
            "bias": bias, "sum": total, "output": max(total, 0.0),
            "kernel_grid": ((kernel / scale + 1) * 127.5).round().to(torch.uint8).numpy(),
            "padding": [ph, pw]}
