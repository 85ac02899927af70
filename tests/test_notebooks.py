"""The lesson notebooks run top to bottom in a real Jupyter kernel and show their figures.

Each `notebooks/*.py` (Jupytext percent format, the form kept in git) is read as a notebook and
executed by nbclient in an ipykernel running this interpreter, so the kernel imports the same
ladder as the tests. Any cell that raises fails the test.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import jupytext
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.py"))
# Read at import, before any test edits the environment; the Makefile exports it, as does CI.
DATA_DIR = os.environ.get("LADDER_DATA_DIR") or str(REPO.parent / "shared" / "data")
KERNEL = "ladder-notebook-test"
# No time limits: a test must pass on a slow or busy machine. How long the lessons take is a
# benchmark's question, not a test's.
CELL_TIMEOUT = None
FALLBACK_NOTE = "instead of MNIST"


def test_every_lesson_opens_as_a_python_notebook_with_a_title():
    assert NOTEBOOKS, "notebooks/ holds no lessons"
    for path in NOTEBOOKS:
        nb = jupytext.read(path)
        assert nb.metadata["kernelspec"]["name"] == "python3", path.name
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), path.name


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory) -> KernelSpecManager:
    """A kernelspec that starts this very interpreter, whatever kernels the machine has installed."""
    folder = tmp_path_factory.mktemp("kernels")
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "ladder (tests)", "language": "python",
            "env": {"LADDER_DATA_DIR": DATA_DIR}}
    (folder / KERNEL).mkdir()
    (folder / KERNEL / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)


def execute(path: Path, kernel_specs: KernelSpecManager, cwd: Path):
    """Run the notebook at `path` in a fresh kernel; return it with its outputs. Raises
    nbclient's CellExecutionError, naming the cell and its traceback, if any cell fails."""
    nb = jupytext.read(path)
    km = AsyncKernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_specs)
    NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def outputs(nb):
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom_and_shows_its_figures(path, kernel_specs, tmp_path):
    nb = execute(path, kernel_specs, tmp_path)

    shown = [out.get("data", {}) for out in outputs(nb)]
    figures = [data for data in shown if str(data.get("text/plain", "")).startswith("<Figure")]
    assert figures, f"{path.name} shows no figure"
    # A Figure shown only as text means the inline backend was not active (`%matplotlib inline`).
    assert all("image/png" in data for data in figures), f"{path.name}: a figure was not drawn inline"
    text = "".join(out.get("text", "") for out in outputs(nb))
    assert FALLBACK_NOTE not in text, (f"{path.name} ran on the 8×8 digits: MNIST was not found "
                                       f"in {DATA_DIR}; set LADDER_DATA_DIR")
