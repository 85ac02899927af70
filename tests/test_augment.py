"""Moving images: part 5's shifted and rotated test digits, and the augmentation a loop trains with."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ladder.augment import RandomMoves, move, shifted


def digit_like(n=3, side=28, seed=0):
    """uint8 images with ink away from the border, so a move of a few pixels keeps all of it."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, side, side), np.uint8)
    images[:, 6:-6, 6:-6] = rng.integers(0, 256, size=(n, side - 12, side - 12))
    return images


def test_a_whole_pixel_shift_moves_every_pixel_exactly():
    images = digit_like()
    np.testing.assert_array_equal(shifted(images, pixels=2), np.roll(images, 2, axis=2))
    np.testing.assert_array_equal(shifted(images, pixels=-3), np.roll(images, -3, axis=2))


def test_a_quarter_turn_is_rot90_counter_clockwise():
    images = digit_like()
    np.testing.assert_array_equal(shifted(images, degrees=90), np.rot90(images, 1, axes=(1, 2)))


def test_no_move_returns_the_images_untouched():
    images = digit_like()
    assert shifted(images) is images


def test_move_samples_where_affine_grid_says():
    # The grid is affine_grid's, written out: the same resampling for any shift and rotation.
    g = torch.Generator().manual_seed(0)
    n, height, width = 64, 28, 20
    x = torch.rand(n, 1, height, width, generator=g) * 255
    dx, dy = torch.rand(n, generator=g) * 6 - 3, torch.rand(n, generator=g) * 6 - 3
    degrees = torch.rand(n, generator=g) * 60 - 30
    angle = degrees * (math.pi / 180)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(angle), -torch.sin(angle) * height / width
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(angle) * width / height, torch.cos(angle)
    theta[:, 0, 2], theta[:, 1, 2] = -dx * 2 / width, -dy * 2 / height
    grid = F.affine_grid(theta, [n, 1, height, width], align_corners=False)
    expected = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    torch.testing.assert_close(move(x, dx, dy, degrees), expected, atol=1e-2, rtol=0)
    torch.testing.assert_close(move(x[:, 0], dx, dy, degrees), expected[:, 0], atol=1e-2, rtol=0)


def test_random_moves_are_a_pure_function_of_their_seed():
    x = torch.from_numpy(digit_like(8)).float()
    a, b = RandomMoves(shift=3, rotate=20, seed=5), RandomMoves(shift=3, rotate=20, seed=5)
    first = a(x)
    assert torch.equal(first, b(x))
    assert not torch.equal(first, a(x))  # the next batch gets new moves
    assert not torch.equal(first, x)
