"""results.json: the public record of a run (schema 1), written atomically."""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
from pathlib import Path

from .errors import LadderError

SCHEMA = 1


def prepare_out_dir(out: str | Path) -> Path:
    """Create the output folder up front, so an unwritable path fails before any training."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".ladder-probe-", delete=True)
        probe.close()
    except OSError as exc:
        raise LadderError(f"--out {out}: cannot write there ({exc.strerror or exc}); "
                          f"choose a folder you can write to") from None
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers see the old file or the new, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content.encode("utf-8") if isinstance(content, str) else content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _finite(value):
    """JSON has no inf or NaN: a value that diverged is written as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_results(out: Path, results: dict) -> Path:
    """Write results.json (non-finite numbers as null), atomically."""
    path = Path(out) / "results.json"
    write_atomic(path, json.dumps(_finite(results), indent=1, allow_nan=False) + "\n")
    return path


def read_results(out: str | Path) -> dict:
    path = Path(out) / "results.json"
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LadderError(f"{path}: no results here; run `ladder run … --out {out}` first") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise LadderError(f"{path}: not a readable results file ({exc})") from None
    if not isinstance(results, dict) or results.get("schema") != SCHEMA:
        raise LadderError(f"{path}: expected results schema {SCHEMA}; re-run `ladder run` to regenerate it")
    return results


def save_figure(figure, path: Path, dpi: int = 110) -> None:
    """A matplotlib Figure as a PNG, written atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)  # layouts are constrained: no second "tight" pass
    write_atomic(path, buffer.getvalue())


def save_torch_models(runs, folder: Path) -> list[Path]:
    """Each PyTorch rung's trained weights (first seed) as safetensors, never as a pickle.

    The file's metadata holds the rung's model spec and class labels as JSON, enough to rebuild
    the module with ladder.models and load the weights back.
    """
    from safetensors.torch import save_file

    from .metrics import final_step

    saved = []
    for run in runs:
        for rung in run.record["rungs"]:
            model = final_step(run.models.get(rung["name"]))  # None: every seed of the rung failed
            module = getattr(model, "module_", None)
            if module is None:
                continue
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{run.record['name']}--{rung['name']}.safetensors"
            tensors = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
            classes = getattr(model, "classes_", None)
            metadata = {"model": json.dumps(rung["model"]), "module": type(module).__name__,
                        "n_features": str(rung["n_features"]),
                        "classes": json.dumps(classes.tolist() if classes is not None else None)}
            tmp = path.with_name(f".{path.name}.tmp")
            save_file(tensors, str(tmp), metadata=metadata)
            os.replace(tmp, path)
            saved.append(path)
    return saved
