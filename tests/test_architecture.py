"""The import contract in pyproject.toml holds: each layer imports only from the layers below it,
and no package's modules import each other in a circle (docs/architecture.md draws the layers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports() -> subprocess.CompletedProcess:
    """import-linter's `lint-imports`, as CI runs it, on the repository's pyproject.toml."""
    command = Path(sys.executable).parent / "lint-imports"
    return subprocess.run([str(command), "--no-cache"], cwd=ROOT, capture_output=True, text=True)


def test_every_layer_imports_only_from_the_layers_below_it_and_nothing_imports_in_a_circle():
    done = lint_imports()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_the_contract_ignores_no_import():
    # An ignored import would be a hole in the picture: none is allowed without a comment saying why.
    assert "ignore_imports" not in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
