"""Shifted and rotated images: the probes of part 5, and the augmentation a loop can train with.

Both move every image of a batch at once with one affine resampling (an affine sampling grid and
`grid_sample`, bilinear, zeros where the image came from outside the frame), so a batch of
uint8 digits is moved as a whole tensor, never one image at a time.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def move(images: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """Float images (n, H, W) or (n, 1, H, W), each shifted by (dx, dy) pixels (right, down) and
    rotated by `degrees` (counter-clockwise) about its centre; the values are (n,) tensors."""
    squeeze = images.dim() == 3
    x = images.unsqueeze(1) if squeeze else images
    n, _, height, width = x.shape
    angle = degrees.to(x.dtype)[:, None, None] * (math.pi / 180)
    cos, sin = torch.cos(angle), torch.sin(angle)
    dx, dy = dx.to(x.dtype)[:, None, None], dy.to(x.dtype)[:, None, None]
    # Where each output pixel reads from, in grid_sample's coordinates ([-1, 1] across the frame,
    # pixel centres as with align_corners=False): F.affine_grid's grid, written out. Its batched
    # matmul with an inner size of 3 took 5x longer on CPU than the resampling itself.
    u = ((torch.arange(width, dtype=x.dtype, device=x.device) * 2 + 1) / width - 1)[None, None, :]
    v = ((torch.arange(height, dtype=x.dtype, device=x.device) * 2 + 1) / height - 1)[None, :, None]
    read_x = cos * u - sin * (height / width) * v - dx * (2 / width)
    read_y = sin * (width / height) * u + cos * v - dy * (2 / height)
    grid = torch.stack([read_x, read_y], dim=-1)  # (n, H, W, 2)
    moved = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return moved.squeeze(1) if squeeze else moved


def shifted(images: np.ndarray, pixels: float = 0, degrees: float = 0) -> np.ndarray:
    """uint8 images (n, H, W) shifted `pixels` to the right and rotated `degrees`: the test digits
    of part 5. Zero pixels and zero degrees return the images untouched."""
    if not pixels and not degrees:
        return images
    n = len(images)
    x = torch.from_numpy(np.ascontiguousarray(images)).float()
    out = move(x, torch.full((n,), float(pixels)), torch.zeros(n), torch.full((n,), float(degrees)))
    return out.round().clamp(0, 255).to(torch.uint8).numpy()


class RandomMoves:
    """Per-batch augmentation: every image moved by a random shift of up to `shift` pixels in each
    direction and a random rotation of up to ±`rotate` degrees, drawn from its own seeded stream."""

    def __init__(self, shift: float = 0, rotate: float = 0, seed: int = 0):
        self.shift, self.rotate = float(shift), float(rotate)
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        n = len(images)
        draw = torch.rand(3, n, generator=self.generator) * 2 - 1  # uniform in [-1, 1]
        return move(images, draw[0] * self.shift, draw[1] * self.shift, draw[2] * self.rotate)


def probe_scores(estimator, dataset, probes) -> dict[str, float]:
    """Test accuracy on the test images moved as `probes` says (a ProbeSpec): one score per shift
    and per rotation, on the first `probes.n_test` test images (all of them when None)."""
    n = probes.n_test or len(dataset.X_test)
    images, labels = dataset.X_test[:n], dataset.y_test[:n]
    from .metrics import probe_key

    moves = [(probe_key("shift", s), s, 0) for s in probes.shift]
    moves += [(probe_key("rotate", r), 0, r) for r in probes.rotate]
    scores = {}
    for key, pixels, degrees in moves:
        moved = shifted(images, pixels, degrees)
        scores[key] = float(np.mean(estimator.predict(moved.reshape(len(moved), -1)) == labels))
    return scores
