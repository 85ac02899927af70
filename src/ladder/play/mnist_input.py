"""A drawing made into a 28×28 input the way MNIST's digits were made."""

from __future__ import annotations

import numpy as np
from skimage.transform import resize

BOX, SIDE = 20, 28  # MNIST: each digit fitted into 20×20 by its bounding box, centred in 28×28


def to_mnist(drawing: np.ndarray) -> np.ndarray:
    """uint8 ink (any square size, 0 = paper) → uint8 (28, 28): fitted into 20×20, centred by mass.

    As in MNIST, the aspect ratio is kept, the resizing is anti-aliased (grey edges), and the
    digit is shifted so that its centre of mass sits at the centre of the 28×28 field.
    """
    ink = np.asarray(drawing, dtype=float)
    rows, cols = np.nonzero(ink > 0)
    out = np.zeros((SIDE, SIDE))
    if len(rows) == 0:
        return out.astype(np.uint8)
    crop = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    factor = BOX / max(crop.shape)
    shape = tuple(max(1, round(n * factor)) for n in crop.shape)
    small = resize(crop, shape, anti_aliasing=True, preserve_range=True)
    mass = small.sum()
    centre = np.array([(small.sum(1) * np.arange(shape[0])).sum(), (small.sum(0) * np.arange(shape[1])).sum()]) / mass
    top, left = np.round(SIDE / 2 - 0.5 - centre).astype(int)
    top, left = np.clip(top, 0, SIDE - shape[0]), np.clip(left, 0, SIDE - shape[1])
    out[top:top + shape[0], left:left + shape[1]] = small
    return np.clip(np.round(out / max(out.max(), 1e-12) * 255), 0, 255).astype(np.uint8)
