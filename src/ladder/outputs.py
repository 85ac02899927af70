"""A run's outputs on disk: results.json, the figures, the trained weights and report.html.

Everything is written into a fresh folder beside `--out` and swapped in at the end, so the
folder holds exactly one run, and an interrupted or failed run (a full disk, Ctrl-C) leaves the
previous run's outputs as they were. Only the entries ladder writes are ever replaced.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from .atomic import held, remove_abandoned, write_atomic
from .errors import LadderError

#: What a run writes into its folder; nothing else there is touched.
ENTRIES = ("results.json", "report.html", "figures", "models")


def prepare_out_dir(out: str | Path) -> Path:
    """Create the output folder up front, so an unwritable path fails before any training."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for folder in (out, out.resolve().parent):  # the run is staged beside `out`
            tempfile.NamedTemporaryFile(dir=folder, prefix=".ladder-probe-").close()
    except OSError as exc:
        raise LadderError(f"--out {out}: cannot write there ({exc.strerror or exc}); "
                          f"choose a folder you can write to") from None
    return out


def write_run(out: Path, runs, results: dict, started: float, figures: bool = True,
              on_figure: Callable[[str], None] = lambda title: None, helper: bool = False) -> Path:
    """Write a run's outputs into `out`: figures and weights (with `figures`), report, results.json.

    `results` (the results.json document) gets its figure lists, its timings and its total time
    filled in. A disk that fills up, or any other OSError, is a LadderError naming `out`; the
    previous outputs stay untouched. With `helper`, a second process draws some of the figures
    (`drawing.draw_figures`).
    """
    out = Path(out)
    stage = _staging_folder(out, "new")
    try:
        with held(stage):
            _write_into(stage, out, runs, results, started, figures, on_figure, helper)
    except OSError as exc:
        raise LadderError(f"--out {out}: could not write the run's outputs ({exc.strerror or exc}); "
                          f"the previous outputs there are untouched: free some space or choose "
                          f"another folder") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return out


def _write_into(stage: Path, out: Path, runs, results: dict, started: float, figures: bool,
                on_figure, helper) -> None:
    """Everything a run writes, into `stage`, then swapped into `out`."""
    if figures:
        _draw(stage, runs, results, on_figure, helper)
    # Fixed before the report is drawn, so `ladder report DIR` rebuilds the very same page.
    results["total_seconds"] = time.perf_counter() - started
    if figures:
        from .report import write_report

        begun = time.perf_counter()
        write_report(stage, results)
        results["timings"]["report"] = time.perf_counter() - begun
    from .results import write_results

    write_results(stage, results)
    _swap_in(stage, out)


def _draw(stage: Path, runs, results: dict, on_figure, helper: bool) -> None:
    """The figures (on two cores with `helper`, `on_figure(title)` after each) and the weights."""
    from .drawing import draw_figures
    from .figures import figure_jobs, listed

    begun = time.perf_counter()
    folder, jobs = stage / "figures", figure_jobs(runs)
    folder.mkdir()
    draw_figures(runs, folder, lambda index: on_figure(jobs[index][2]), helper)
    per_experiment, summary = listed(runs, jobs, folder.name)
    for record in results["experiments"]:
        record["figures"] = per_experiment.get(record["name"], [])
    results["figures"] = summary
    save_torch_models(runs, stage / "models")
    results["timings"]["figures"] = time.perf_counter() - begun


def _staging_folder(out: Path, kind: str) -> Path:
    """A fresh hidden folder beside `out` (the same file system, so entries move by renaming);
    those a killed run left there first go."""
    prefix = f".{out.name}.ladder-{kind}-"
    remove_abandoned(out.resolve().parent, prefix)
    return Path(tempfile.mkdtemp(dir=out.resolve().parent, prefix=prefix))


def _swap_in(stage: Path, out: Path) -> None:
    """Move the staged entries into `out`, the previous run's entries out of the way first."""
    old = _staging_folder(out, "old")
    try:
        with held(old):
            try:
                for name in ENTRIES:
                    if (out / name).exists() or (out / name).is_symlink():
                        os.replace(out / name, old / name)
                for name in ENTRIES:
                    if (stage / name).exists():
                        os.replace(stage / name, out / name)
            except BaseException:  # a full disk, or Ctrl-C between two renames
                for name in ENTRIES:  # put the previous run back as it was
                    if (old / name).exists():
                        if (out / name).is_dir():
                            shutil.rmtree(out / name)
                        os.replace(old / name, out / name)
                raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def save_torch_models(runs, folder: Path) -> list[Path]:
    """Each PyTorch rung's trained weights (first seed) as safetensors, never as a pickle.

    The file's metadata holds the rung's model spec and class labels as JSON, enough to rebuild
    the module with ladder.models and load the weights back.
    """
    from safetensors.torch import save

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
            write_atomic(path, save(tensors, metadata=metadata))
            saved.append(path)
    return saved
