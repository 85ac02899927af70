"""The playground's data sets: ladder's 2-D toys put on one plane, k blobs, two regressions, CSV files.

`ladder play` draws every data set on the same [-6, 6]² plane, so a φ such as sin x1 means the
same whichever data set it is ticked for; an experiment file names them as
`dataset = { name = "playground", pattern = "circles", … }` or `{ name = "csv", path = "…" }`,
and `ladder run` then trains on the very points the page showed.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Literal

from .dataset import Dataset, split, task
from . import synthetic

DOMAIN = 6.0  # the plane shown is [-6, 6]²; generated points stay within about ±5
CLASSIFICATION = ("circles", "xor", "gauss", "spirals", "moons", "blobs")
REGRESSION = ("plane", "sine")
PATTERNS = CLASSIFICATION + REGRESSION
MAX_CLASSES = 10  # the colours a colour-blind learner can still tell apart (Paul Tol's muted palette)
BLOB_RADIUS = 3.5  # the k blobs' centres sit evenly on this circle


def task_of(params: dict) -> str:
    """The task a playground data set poses, from its parameters: the pattern decides."""
    return "regression" if params.get("pattern") in REGRESSION else "classification"


@task("classification or regression (by pattern)")
def playground(pattern: Literal[PATTERNS] = "circles", n: int = 400, noise: float = 0.1,  # type: ignore[valid-type]
               classes: int = 3, seed: int = 0, test_size: float = 0.5) -> Dataset:
    """A pattern of the playground on its ±5 plane (`classes`: how many blobs "blobs" has, 2 to 10)."""
    if pattern not in PATTERNS:
        raise ValueError(f"pattern must be one of {', '.join(PATTERNS)}, got {pattern!r}")
    if not 2 <= classes <= MAX_CLASSES:
        raise ValueError(f"classes must be between 2 and {MAX_CLASSES}, got {classes}")
    if pattern in REGRESSION:
        import numpy as np

        rng = np.random.default_rng(seed)
        X = rng.uniform(-5, 5, size=(n, 2))
        target = (X[:, 0] + X[:, 1]) / 10 if pattern == "plane" else np.sin(X[:, 0])
        y = target + noise * rng.normal(size=n)
        return split(pattern, "regression", X, y, test_size=test_size, seed=seed, params={"noise": noise})
    if pattern == "gauss":
        data = synthetic.blobs(n, centers=[[2, 2], [-2, -2]], noise=0.5 + 2 * noise, seed=seed,
                               test_size=test_size)
    elif pattern == "blobs":
        import numpy as np

        # Centres on a circle, not at random: every class has a neighbour on each side and none
        # hides between others, so a softmax over straight lines can separate them all.
        angles = 2 * np.pi * np.arange(classes) / classes + np.pi / 2
        centres = BLOB_RADIUS * np.column_stack([np.cos(angles), np.sin(angles)])
        data = synthetic.blobs(n, centers=centres.tolist(), noise=0.5 + 2 * noise, seed=seed,
                               test_size=test_size)
    else:
        data = getattr(synthetic, pattern)(n=n, noise=noise, seed=seed, test_size=test_size)
    # ladder's generators use their own units (circles of radius 1, moons within [-1, 2]);
    # the playground puts every one on the same ±5 plane so φ such as sin x1 mean the same.
    shift, scale = {"circles": (0, 5), "xor": (0, 2.5), "moons": ((0.5, 0.25), 3)}.get(pattern, (0, 1))
    return Dataset(pattern, "classification", (data.X_train - shift) * scale, (data.X_test - shift) * scale,
                   data.y_train, data.y_test, params={"noise": noise})


playground.task_of = task_of


@task("classification or regression (by task)")
def csv_file(path: str, label: str | None = None, features: list[str] | None = None,
             task: Literal["classification", "regression"] = "classification", seed: int = 0,
             test_size: float = 0.5) -> Dataset:
    """Two feature columns and a label (or target) of a CSV file, on the playground's plane.

    By default the first two columns are the features and the last the label, as on the page.
    """
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as exc:
        raise ValueError(f"path {path}: cannot read it ({exc.strerror})") from None
    X, y, _ = read_csv(text, max_rows=math.inf, label=label, features=features)
    data = from_csv(X, y, test_size, seed)
    if data.task != task:
        raise ValueError(f"task {task!r}: {path}'s label column makes it a {data.task} data set")
    return data


csv_file.task_of = lambda params: params.get("task", "classification")


class CSVError(ValueError):
    """A CSV file the playground cannot use; the message says why in one line."""


def read_csv(text: str, *, max_rows: int, label: str | None = None, features=None) -> tuple:
    """Two feature columns and a label/target column of a CSV text: (X, y, header).

    By default the first two numeric columns are the features and the last column the label.
    """
    import numpy as np

    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise CSVError("the file has no data rows: give a header line and at least two rows")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if len(body) > max_rows:
        raise CSVError(f"too large: {len(body)} rows, the playground takes at most {max_rows}")
    if len(header) < 3:
        raise CSVError(f"need two feature columns and a label column, found {len(header)} column(s)")
    if label is not None and not isinstance(label, str):
        raise CSVError(f"label must be a column name such as \"label\", got {label!r}")
    if features is not None and not (isinstance(features, list) and len(features) == 2
                                     and all(isinstance(f, str) for f in features)):
        raise CSVError(f"features must be a list of two column names such as [\"a\", \"b\"], got {features!r}")
    label = label or header[-1]
    features = features or [h for h in header if h != label][:2]
    for name in [*features, label]:
        if name not in header:
            raise CSVError(f"no column named {name!r}; the columns are: {', '.join(header)}")
    try:
        table = np.array([[float(r[header.index(c)]) for c in [*features, label]] for r in body])
    except (ValueError, IndexError):
        raise CSVError("not numeric: every cell of the chosen columns must be a number "
                       f"(columns {', '.join([*features, label])})") from None
    if not np.isfinite(table).all():
        raise CSVError("the file holds NaN or infinite values; remove or fill those rows")
    return table[:, :2], table[:, 2], header


def from_csv(X, y, test_size: float, seed: int) -> Dataset:
    """A CSV's points on the plane: classification when the label has few whole values.

    Labels become class numbers 0…k-1 in the order of their values (`params["labels"]` keeps
    the values themselves, for the page to show).
    """
    import numpy as np

    values = np.unique(y)
    is_labels = len(values) <= MAX_CLASSES and np.all(values == np.round(values))
    if is_labels and len(values) < 2:
        raise CSVError(f"the label column has {len(values)} class(es); the playground needs 2 to "
                       f"{MAX_CLASSES} classes (or a numeric target with many values for regression)")
    # Features are scaled onto the ±5 plane, keeping their ratio, so the heat map shows them all.
    centre = (X.max(0) + X.min(0)) / 2
    scale = 5 / max(np.abs(X - centre).max(), 1e-12)
    X = (X - centre) * scale
    params = {"scale": scale}
    if is_labels:
        y = np.searchsorted(values, y)
        params["labels"] = [f"{v:g}" for v in values]
        counts = np.bincount(y)
        if counts.min() < 2:
            raise CSVError(f"each class needs at least two rows; class {values[counts.argmin()]:g} has "
                           f"{counts.min()}")
    task = "classification" if is_labels else "regression"
    return split("csv", task, X, y, test_size=test_size, seed=seed, params=params)
