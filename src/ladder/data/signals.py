"""MNIST-1D: ten 1-D templates, each padded, stretched, moved, sheared and noised into 40 points.

Greydanus and Kobak, "Scaling Down Deep Learning with MNIST-1D" (ICML 2024). The signals are made
by the `mnist1d` package's own generator, `make_dataset(args)`, never downloaded: the package's
`get_dataset` would fetch a pickle from GitHub, so it is never called. The generator seeds NumPy's
and Python's global random generators; both are given back as they were. What it made is kept in
ladder's cache (`cache_dir()/mnist1d`), one file per set of parameters and package version.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ..atomic import write_atomic
from .dataset import Dataset, task
from .mnist_files import cache_dir

if TYPE_CHECKING:
    import numpy as np

#: The package version the generator's numbers were checked against (pinned in pyproject.toml).
PACKAGE = "mnist1d"

# The generator draws from NumPy's one global stream: two threads making datasets at once would
# interleave their draws, and neither would get the numbers its seed promises.
_GLOBAL_RNG = threading.Lock()


@task("classification")
def mnist1d(n: int = 5000, test_size: float = 0.2, seed: int = 42, shuffle: bool = False,
            length: int = 40, template_len: int = 12, padding: Sequence[int] = (36, 60),
            scale_coeff: float = 0.4, max_translation: int = 48, corr_noise_scale: float = 0.25,
            iid_noise_scale: float = 0.02, shear_scale: float = 0.75) -> Dataset:
    """MNIST-1D: 10 classes of 1-D signals, 40 points each; 4,000 train / 1,000 test by default.

    The defaults are the paper's canonical dataset. `shuffle` applies one fixed permutation to the
    40 positions, the same for every signal (train and test): the values stay, where they sit no
    longer means anything. `n` signals are made (n // 10 of each class), the generator's own
    order puts the last `test_size` of them in the test split, and `seed` seeds the generator.
    The other parameters are the generator's (`mnist1d.get_dataset_args()`), `length` being its
    `final_seq_length`: padding (low, high) zeros appended to the 12-point template, which is then
    stretched, scaled by up to ±scale_coeff/2, rolled by up to max_translation points, noised,
    sheared and resampled to `length` points.
    """
    params = {"n": n, "test_size": test_size, "seed": seed, "shuffle": shuffle, "length": length,
              "template_len": template_len, "padding": [int(p) for p in padding],
              "scale_coeff": scale_coeff, "max_translation": max_translation,
              "corr_noise_scale": corr_noise_scale, "iid_noise_scale": iid_noise_scale,
              "shear_scale": shear_scale}
    _check(params)
    arrays = _cached(params)
    return Dataset("mnist1d", "classification", arrays["X_train"], arrays["X_test"],
                   arrays["y_train"], arrays["y_test"], params=params)


def _check(params: dict) -> None:
    n, test_size, low_high = params["n"], params["test_size"], params["padding"]
    if n < 20:
        raise ValueError(f"n must be at least 20 (two signals of each of the 10 classes), got {n}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size}")
    if not 0 < int(n // 10 * 10 * (1 - test_size)) < n // 10 * 10:
        raise ValueError(f"test_size {test_size} leaves no signal in one of the splits of n={n}")
    for key in ("length", "template_len", "max_translation"):
        if params[key] < 1:
            raise ValueError(f"{key} must be at least 1, got {params[key]}")
    if len(low_high) != 2 or not 0 <= low_high[0] <= low_high[1]:
        raise ValueError(f"padding must be [low, high] with 0 <= low <= high, got {low_high}")
    for key in ("scale_coeff", "corr_noise_scale", "iid_noise_scale", "shear_scale"):
        if params[key] < 0:
            raise ValueError(f"{key} must be >= 0, got {params[key]}")


def cache_file(params: dict) -> Path:
    """Where the signals made with `params` are kept: named by every parameter and the package's
    version, so a change to either makes (and keeps) a new file."""
    key = json.dumps({**params, PACKAGE: metadata.version(PACKAGE)}, sort_keys=True)
    return cache_dir() / "mnist1d" / f"mnist1d-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def _cached(params: dict) -> dict[str, np.ndarray]:
    import numpy as np

    path = cache_file(params)
    try:
        with np.load(path) as stored:
            return {name: stored[name] for name in ("X_train", "X_test", "y_train", "y_test")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # not made yet, or damaged
        pass
    arrays = generate(params)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, buffer.getvalue())  # a run stopped mid-write leaves no half a file
    return arrays


def generate(params: dict) -> dict[str, np.ndarray]:
    """The package's `make_dataset` with `params`, the caller's random state untouched."""
    import random

    import numpy as np
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.train_split, args.seed = params["n"], 1 - params["test_size"], params["seed"]
    args.shuffle_seq, args.final_seq_length = params["shuffle"], params["length"]
    for key in ("template_len", "scale_coeff", "max_translation", "corr_noise_scale",
                "iid_noise_scale", "shear_scale"):
        setattr(args, key, params[key])
    args.padding = list(params["padding"])
    args.url = None  # make_dataset never reads it; nothing here may ever download
    with _GLOBAL_RNG:
        numpy_state, python_state = np.random.get_state(), random.getstate()
        try:
            made = make_dataset(args)
        finally:
            np.random.set_state(numpy_state)
            random.setstate(python_state)
    return {"X_train": made["x"], "X_test": made["x_test"],
            "y_train": made["y"].astype(np.int64), "y_test": made["y_test"].astype(np.int64)}


def templates() -> tuple[np.ndarray, np.ndarray]:
    """The ten 12-point templates the signals are made from, (t, x) with x of shape (10, 12)."""
    from mnist1d.data import get_templates

    made = get_templates()
    return made["t"], made["x"]
