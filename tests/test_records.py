"""Results that never mislead: divergence is named, claims show both sides, numbers read as numbers."""

from __future__ import annotations

import pytest

from conftest import read_results

DIVERGES = """
name = "diverges"
dataset = { name = "circles", n = 400, seed = 0 }

[[rungs]]
name = "logreg"
model = { kind = "logistic", backend = "sklearn" }

[[rungs]]
name = "mlp"
model = { kind = "mlp", hidden = [16, 16] }
train = { epochs = 50, lr = 1e6 }

[[claims]]
text = "An MLP beats a line"
check = "mlp.test_accuracy > logreg.test_accuracy"

[[claims]]
text = "A line cannot separate two circles"
check = "logreg.test_accuracy < 0.65"
"""

SINE = """
name = "sine-diverges"
dataset = { name = "sine", n = 200 }

[[rungs]]
name = "line"
model = { kind = "linear", backend = "torch" }
train = { epochs = 30, optimizer = "sgd", lr = 1e6 }
"""


@pytest.fixture(scope="module")
def diverged_run(tmp_path_factory, cli_runner):
    from ladder.cli import app

    folder = tmp_path_factory.mktemp("diverged")
    spec = folder / "diverges.toml"
    spec.write_text(DIVERGES, encoding="utf-8")
    result = cli_runner.invoke(app, ["run", str(spec), "--seeds", "2", "--out", str(folder / "out")])
    assert result.exit_code == 0, result.output
    return result, read_results(folder / "out"), folder / "out"


def test_an_mlp_at_lr_1e6_is_marked_diverged_not_scored_0_5(diverged_run):
    _, results, _ = diverged_run
    mlp = results["experiments"][0]["rungs"][1]
    assert mlp["status"] == "diverged"
    assert mlp["epoch"] >= 1 and mlp["seed"] == 0
    assert "exploded" in mlp["reason"] or "became" in mlp["reason"]
    assert mlp["metrics"]["test_accuracy"]["mean"] is None  # no score: written as null
    assert results["experiments"][0]["rungs"][0]["status"] == "ok"


def test_a_claim_on_a_diverged_rung_fails_with_the_reason(diverged_run):
    result, results, _ = diverged_run
    on_mlp, on_line = results["experiments"][0]["claims"]
    assert on_mlp["holds"] is False and "rung 'mlp' diverged at epoch" in on_mlp["reason"]
    assert on_line["holds"] is True and "reason" not in on_line
    assert "mlp diverged at epoch" in result.stdout and "try a lower learning rate" in result.stdout


def test_the_table_and_the_report_say_diverged(diverged_run):
    result, _, out = diverged_run
    row = next(line for line in result.stdout.splitlines() if line.startswith("│ mlp"))
    assert "diverged" in row and "nan" not in row
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "mlp diverged at epoch" in html and "rung &#39;mlp&#39; diverged" in html


def test_figures_leave_the_diverged_rung_out(diverged_run):
    _, results, out = diverged_run
    files = [f["file"] for f in results["experiments"][0]["figures"]]
    assert "figures/diverges-decision-boundaries.png" in files
    assert all((out / f).is_file() for f in files)


def test_a_sine_at_lr_1e6_is_diverged_not_nan(invoke, write_toml, tmp_path):
    result = invoke("run", write_toml(SINE), "--out", tmp_path / "out", "--no-figures")
    assert result.exit_code == 0, result.output
    line = read_results(tmp_path / "out")["experiments"][0]["rungs"][0]
    assert line["status"] == "diverged" and line["metrics"]["test_r2"]["mean"] is None
    assert "nan" not in result.stdout.lower().replace("became nan", "")


def test_claims_record_both_sides_and_the_margin(part):
    result, results = part("circles")
    claims = {c["check"]: c for c in results["experiments"][0]["claims"]}
    twin = claims["logreg-torch.test_accuracy >= logreg.test_accuracy - 0.02"]
    rungs = {r["name"]: r["metrics"]["test_accuracy"]["mean"] for r in results["experiments"][0]["rungs"]}
    assert twin["left"] == rungs["logreg-torch"]
    assert twin["right"] == pytest.approx(rungs["logreg"] - 0.02)
    assert twin["margin"] == pytest.approx(twin["left"] - twin["right"])
    below = claims["logreg.test_accuracy < 0.65"]
    assert below["margin"] == pytest.approx(0.65 - below["left"]) and below["margin"] > 0
    assert f"{twin['left']:.3f} ≥ {twin['right']:.3f}, margin +" in result.stdout


def test_parameter_counts_print_with_separators_never_in_e_notation(invoke, write_toml, tmp_path):
    text = """
    name = "wide"
    dataset = { name = "circles", n = 200 }

    [[rungs]]
    name = "mlp"
    model = { kind = "mlp", hidden = [300, 300] }
    train = { epochs = 2 }

    [[claims]]
    text = "It has 91,201 parameters"
    check = "mlp.n_params == 91201"
    """
    out = tmp_path / "out"
    result = invoke("run", write_toml(text), "--out", out)
    assert result.exit_code == 0, result.output
    assert "91,201" in result.stdout and "e+04" not in result.stdout
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "91,201" in html and "e+04" not in html
