"""The IDX file format MNIST ships in: a big-endian header, then the raw uint8 values.

The header is a magic number (two zero bytes, a type code, the number of dimensions), then one
uint32 per dimension. This module reads that and nothing more; which files MNIST has and what
their content must hash to is `mnist_files.py`'s business.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a file is read: `ladder list` never needs numpy
    import numpy as np


class IdxError(Exception):
    """What is wrong with one file (its header, its length), in words that follow its path."""


def _read_into(file, values: np.ndarray) -> int:
    """Fill `values` from `file`; return how many bytes there were (fewer means the file ended).

    Reading straight into a fresh array keeps it writable and avoids copying 47 MB once more.
    """
    view = memoryview(values).cast("B")
    filled = 0
    while filled < len(view):
        n = file.readinto(view[filled:])
        if not n:
            break
        filled += n
    return filled


def read_idx_file(path: Path, magic: int, image_side: int | None = None) -> tuple[bytes, np.ndarray]:
    """(header bytes, uint8 values) of the IDX file at `path` (gzip if it ends in .gz).

    Raises IdxError if the magic number is not `magic`, if images are not `image_side` pixels
    square, or if the file is shorter or longer than its header promises.
    """
    import numpy as np

    kind = "image" if image_side is not None else "label"
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as file:
            header = file.read(4)
            found = int.from_bytes(header, "big")
            if len(header) < 4 or found != magic:
                raise IdxError(f"is not an MNIST {kind} file (magic number {found}, expected {magic})")
            dims_bytes = file.read(4 * header[3])
            header += dims_bytes
            if len(dims_bytes) < 4 * header[3]:
                raise IdxError("is truncated inside its header")
            shape = tuple(int(d) for d in np.frombuffer(dims_bytes, ">u4"))
            if image_side is not None and shape[1:] != (image_side, image_side):
                raise IdxError(f"holds images of {shape[1]}×{shape[2]} pixels, "
                               f"expected {image_side}×{image_side}")
            values = np.empty(shape, np.uint8)
            n_read = _read_into(file, values)
            if n_read < values.size:
                raise IdxError(f"is truncated (its header promises {values.size:,} bytes of data, "
                               f"found {n_read:,})")
            if file.read(1):
                raise IdxError(f"has bytes after the {values.size:,} its header promises")
    except (OSError, EOFError, zlib.error) as error:  # a broken gzip stream or an unreadable file
        raise IdxError(f"could not be read ({type(error).__name__}: {error})") from None
    return header, values
