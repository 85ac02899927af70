"""End to end through the public CLI: the course's claims in results.json, and every mistake a user can make."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import TINY, leftovers, read_results, start_ladder, temporary_files

import ladder
from ladder import experiments as exp


def rungs(experiment: dict) -> dict:
    return {r["name"]: r for r in experiment["rungs"]}


def mean(experiment: dict, rung: str, metric: str) -> float:
    return rungs(experiment)[rung]["metrics"][metric]["mean"]


def table_row(output: str, rung: str) -> str:
    """The terminal table's row of one rung (the first one, if several experiments have it)."""
    return next(line for line in output.splitlines() if line.startswith(f"│ {rung} "))


def all_claims_hold(experiment: dict):
    failed = [c["check"] for c in experiment["claims"] if not c["holds"]]
    assert not failed, f"claims that failed: {failed}"


# -- Part 1: circles ------------------------------------------------------------------------------
@pytest.mark.slow
def test_every_circles_claim_holds(part):
    result, results = part("circles")
    (circles,) = results["experiments"]
    assert circles["name"] == "circles" and circles["task"] == "classification"
    assert len(circles["claims"]) >= 4
    all_claims_hold(circles)
    assert "✗" not in result.stdout and result.stdout.count("✓") == len(circles["claims"])


@pytest.mark.slow
def test_linear_model_fails_on_circles(part):
    (circles,) = part("circles")[1]["experiments"]
    assert mean(circles, "logreg", "test_accuracy") < 0.65
    assert rungs(circles)["logreg"]["n_features"] == 2 and rungs(circles)["logreg"]["n_params"] == 3


@pytest.mark.slow
def test_squared_features_let_logistic_regression_separate_circles(part):
    (circles,) = part("circles")[1]["experiments"]
    poly = rungs(circles)["logreg+poly2"]
    assert poly["metrics"]["test_accuracy"]["mean"] >= 0.95
    assert poly["n_features"] == 5  # x1, x2, x1², x1·x2, x2²
    assert poly["features"]["kind"] == "polynomial" and poly["features"]["degree"] == 2


@pytest.mark.slow
def test_mlp_learns_the_circles_boundary(part):
    (circles,) = part("circles")[1]["experiments"]
    mlp = rungs(circles)["mlp"]
    assert mlp["metrics"]["test_accuracy"]["mean"] >= 0.95
    assert mlp["n_params"] == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1 == 337


@pytest.mark.slow
def test_torch_logistic_regression_matches_sklearn_within_2_points_on_circles(part):
    (circles,) = part("circles")[1]["experiments"]
    torch_acc, sk_acc = mean(circles, "logreg-torch", "test_accuracy"), mean(circles, "logreg", "test_accuracy")
    assert abs(torch_acc - sk_acc) <= 0.02
    assert rungs(circles)["logreg-torch"]["backend"] == "torch" and rungs(circles)["logreg"]["backend"] == "sklearn"
    assert rungs(circles)["logreg-torch"]["n_params"] == 3
    comparing = [c for c in circles["claims"] if "logreg-torch" in c["check"] and "logreg." in c["check"]]
    assert comparing and all(c["holds"] for c in comparing)


# -- Part 2: sine ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_every_sine_claim_holds(part):
    result, results = part("sine")
    (sine,) = results["experiments"]
    assert sine["task"] == "regression"
    all_claims_hold(sine)
    data = sine["dataset"]
    assert data["n_train"] + data["n_test"] == 300 and (data["noise"], data["frequency"]) == (0.15, 1.5)


@pytest.mark.slow
def test_a_line_cannot_fit_a_sine_wave_in_sklearn_or_torch(part):
    (sine,) = part("sine")[1]["experiments"]
    assert mean(sine, "linear", "test_r2") < 0.05
    assert mean(sine, "linear-torch", "test_r2") < 0.05
    # the twins are one model: same R² to three decimals
    assert mean(sine, "linear-torch", "test_r2") == pytest.approx(mean(sine, "linear", "test_r2"), abs=1e-3)


@pytest.mark.slow
def test_degree_5_polynomial_follows_the_wave(part):
    (sine,) = part("sine")[1]["experiments"]
    assert mean(sine, "linear+poly5", "test_r2") >= 0.85
    assert rungs(sine)["linear+poly5"]["n_features"] == 5


@pytest.mark.slow
def test_mlp_learns_the_wave_from_x_alone(part):
    (sine,) = part("sine")[1]["experiments"]
    assert mean(sine, "mlp", "test_r2") >= 0.9
    assert rungs(sine)["mlp"]["n_params"] == 1 * 64 + 64 + 64 * 64 + 64 + 64 + 1


@pytest.mark.slow
def test_sine_reports_mse_and_r2_for_every_rung(part):
    result, results = part("sine")
    (sine,) = results["experiments"]
    for rung in sine["rungs"]:
        assert {"test_r2", "test_mse", "train_r2", "train_mse"} <= set(rung["metrics"]), rung["name"]
        assert rung["metrics"]["test_mse"]["mean"] > 0
    # a worse R² is a larger error
    assert mean(sine, "linear", "test_mse") > 10 * mean(sine, "mlp", "test_mse")
    assert "test r2" in result.stdout and "test mse" in result.stdout


# -- Part 3: spirals ------------------------------------------------------------------------------
@pytest.mark.slow
def test_every_spirals_claim_holds(part):
    (spirals,) = part("spirals")[1]["experiments"]
    all_claims_hold(spirals)


@pytest.mark.slow
def test_linear_model_fails_on_spirals(part):
    (spirals,) = part("spirals")[1]["experiments"]
    assert mean(spirals, "logreg", "test_accuracy") < 0.75


@pytest.mark.slow
def test_degree_6_polynomial_features_barely_help_on_spirals(part):
    (spirals,) = part("spirals")[1]["experiments"]
    assert mean(spirals, "logreg+poly6", "test_accuracy") < 0.85
    assert rungs(spirals)["logreg+poly6"]["n_features"] == 27  # monomials of degree 1…6 in 2 inputs


@pytest.mark.slow
def test_mlp_learns_the_spirals(part):
    (spirals,) = part("spirals")[1]["experiments"]
    mlp = rungs(spirals)["mlp"]
    assert mlp["metrics"]["test_accuracy"]["mean"] >= 0.97
    assert mlp["n_params"] == 2 * 64 + 64 + 64 * 64 + 64 + 64 + 1 == 4417


@pytest.mark.slow
def test_spirals_table_prints_every_feature_count_and_every_torch_parameter_count(part):
    result, results = part("spirals")
    (spirals,) = results["experiments"]
    for rung in spirals["rungs"]:
        row = table_row(result.stdout, rung["name"])
        cells = [c.strip() for c in row.strip("│").split("│")]
        assert str(rung["n_features"]) in cells, row
        if rung["backend"] == "torch":
            assert f"{rung['n_params']:,}" in cells, row
    assert "4,417" in table_row(result.stdout, "mlp")
    assert "27" in table_row(result.stdout, "logreg+poly6")


# -- results.json ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_results_json_schema(part):
    _, results = part("circles")
    assert results["schema"] == 1
    assert results["ladder_version"] == ladder.__version__
    assert results["device"] == "cpu" or results["device"] in ("cuda", "mps")
    assert results["seeds"] == [0]
    assert results["total_seconds"] > 0
    (circles,) = results["experiments"]
    assert {"name", "title", "task", "dataset", "rungs", "claims"} <= set(circles)
    assert circles["dataset"]["n_train"] == 750 and circles["dataset"]["n_test"] == 250
    assert circles["dataset"]["name"] == "circles" and circles["dataset"]["n_features"] == 2
    for rung in circles["rungs"]:
        assert {"name", "backend", "n_features", "n_params", "metrics", "fit_seconds"} <= set(rung)
        for metric in ("test_accuracy", "train_accuracy"):
            summary = rung["metrics"][metric]
            assert set(summary) == {"mean", "std", "values"} and len(summary["values"]) == 1
            assert summary["mean"] == summary["values"][0] and summary["std"] == 0
        assert set(rung["fit_seconds"]) == {"mean", "std", "values"}
    mlp = rungs(circles)["mlp"]
    assert len(mlp["history"]["loss"]) == 1 and len(mlp["history"]["loss"][0]) == 500  # seeds × epochs
    assert len(mlp["history"]["test_accuracy"][0]) == 500
    assert mlp["metrics"]["final_loss"]["mean"] == mlp["history"]["loss"][0][-1]
    assert "history" not in rungs(circles)["logreg"]
    for claim in circles["claims"]:
        assert set(claim) >= {"text", "check", "holds", "value"}
        assert isinstance(claim["holds"], bool) and isinstance(claim["value"], float)
    first = circles["claims"][0]
    assert first["check"] == "logreg.test_accuracy < 0.65"
    assert first["value"] == mean(circles, "logreg", "test_accuracy")


def test_a_users_toml_file_runs_and_writes_results(invoke, tiny_toml, tmp_path):
    out = tmp_path / "runs" / "demo"  # created, parents too
    result = invoke("run", tiny_toml, "--seeds", "2", "--out", out)
    assert result.exit_code == 0, result.output
    results = read_results(out)
    assert "results.json" in leftovers(out) and "report.html" in leftovers(out)
    assert not temporary_files(out)  # no probe, no half-written file
    (tiny,) = results["experiments"]
    assert tiny["name"] == "tiny" and results["seeds"] == [0, 1]
    mlp = rungs(tiny)["mlp"]
    values = mlp["metrics"]["test_accuracy"]["values"]
    assert len(values) == 2 and len(mlp["history"]["loss"]) == 2 and len(mlp["history"]["loss"][0]) == 30
    assert mlp["history"]["loss"][0] != mlp["history"]["loss"][1]  # the seed drives init and shuffling
    assert mlp["metrics"]["test_accuracy"]["mean"] == pytest.approx(sum(values) / 2)
    assert f"results: {out / 'results.json'}" in result.stdout.replace("\n", "")
    assert "1/1 claims hold" in result.stdout


def test_several_experiments_in_one_run_keep_their_order(invoke, write_toml, tmp_path):
    first = write_toml(TINY, "first.toml")
    second = write_toml(TINY.replace('name = "tiny"', 'name = "tiny-two"', 1), "second.toml")
    out = tmp_path / "out"
    assert invoke("run", second, first, "--out", out, "--no-figures").exit_code == 0
    assert [e["name"] for e in read_results(out)["experiments"]] == ["tiny-two", "tiny"]


def test_a_second_run_replaces_results_json(invoke, tiny_toml, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text("old", encoding="utf-8")
    assert invoke("run", tiny_toml, "--out", out, "--no-figures").exit_code == 0
    assert read_results(out)["schema"] == 1 and leftovers(out) == ["results.json"]


def test_same_seed_same_numbers(invoke, tiny_toml, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert invoke("run", tiny_toml, "--seeds", "2", "--device", "cpu", "--out", out,
                      "--no-figures").exit_code == 0
    ra, rb = read_results(a)["experiments"][0], read_results(b)["experiments"][0]
    for x, y in zip(ra["rungs"], rb["rungs"]):
        assert x["metrics"] == y["metrics"], x["name"]
        assert x.get("history") == y.get("history"), x["name"]
    assert ra["claims"] == rb["claims"]


# -- --strict -------------------------------------------------------------------------------------
IMPOSSIBLE = TINY + """
[[claims]]
text = "An 8-unit MLP trained for 30 epochs is perfect"
check = "mlp.test_accuracy > 1.0"
"""


def test_strict_exits_1_when_a_claim_fails_and_still_writes_results(invoke, write_toml, tmp_path):
    out = tmp_path / "out"
    result = invoke("run", write_toml(IMPOSSIBLE), "--strict", "--out", out, "--no-figures")
    assert result.exit_code == 1, result.output
    claims = read_results(out)["experiments"][0]["claims"]
    assert [c["holds"] for c in claims] == [True, False]
    assert "✗" in result.stdout and "1/2 claims hold" in result.stdout


def test_a_failed_claim_without_strict_exits_0(invoke, write_toml):
    result = invoke("run", write_toml(IMPOSSIBLE))
    assert result.exit_code == 0 and "1/2 claims hold" in result.stdout


def test_strict_exits_0_when_every_claim_holds(invoke, tiny_toml):
    assert invoke("run", tiny_toml, "--strict").exit_code == 0


# -- the run's plan: made once, passed down ------------------------------------------------------
def test_threads_reach_each_task_through_the_plan_and_not_through_the_environment(invoke, tiny_toml,
                                                                                   monkeypatch):
    from ladder import budget, executors

    monkeypatch.delenv(budget.ENV_VAR, raising=False)
    asked, real = [], executors.attempt

    def spy(task, *args):
        asked.append(budget.requested_threads())  # what an estimator of the task would be told
        return real(task, *args)
    monkeypatch.setattr(executors, "attempt", spy)
    assert invoke("run", tiny_toml, "--threads", "3", "--jobs", "1").exit_code == 0
    assert budget.ENV_VAR not in os.environ
    assert asked == [3, 3]  # both rungs of the tiny ladder


def test_the_device_is_resolved_once_per_run(invoke, tiny_toml, monkeypatch):
    import ladder.devices
    import ladder.estimators

    asked, real = [], ladder.devices.pick_device

    def spy(device="auto"):
        asked.append(device)
        return real(device)
    monkeypatch.setattr(ladder.devices, "pick_device", spy)
    monkeypatch.setattr(ladder.estimators, "pick_device", spy)
    assert invoke("run", tiny_toml, "--seeds", "2").exit_code == 0
    assert asked.count("auto") == 1  # the tasks are given the device it resolved to
    assert set(asked) - {"auto"} <= {"cpu", "cuda", "mps"}


# -- interruptions --------------------------------------------------------------------------------
def test_an_interrupted_run_writes_nothing_and_keeps_the_old_results(invoke, write_toml, tmp_path,
                                                                     monkeypatch):
    import ladder.task
    real = ladder.task.run_rung
    calls = []  # each rung fitted: two of the first experiment, then the first of the second

    def interrupted(rung, dataset, *args, **kwargs):
        calls.append(rung.name)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(rung, dataset, *args, **kwargs)
    monkeypatch.setattr(ladder.task, "run_rung", interrupted)
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text("old results", encoding="utf-8")
    first, second = write_toml(TINY, "a.toml"), write_toml(TINY.replace('"tiny"', '"tiny-b"', 1), "b.toml")
    result = invoke("run", first, second, "--out", out, "--no-figures")
    assert result.exit_code == 130
    assert calls == ["logreg", "mlp", "logreg"]  # interrupted in the second experiment
    assert "interrupted" in result.stderr and "Traceback" not in result.stderr
    assert (out / "results.json").read_text(encoding="utf-8") == "old results"
    assert leftovers(out) == ["results.json"]


def test_an_interrupt_while_writing_leaves_no_temporary_file(invoke, tiny_toml, tmp_path, monkeypatch):
    def interrupt(fd):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "fsync", interrupt)
    out = tmp_path / "out"
    result = invoke("run", tiny_toml, "--out", out, "--no-figures")
    assert result.exit_code == 130
    assert leftovers(out) == []


TINY_IMAGES = """
name = "tiny-digits"
title = "a tiny ladder on images"
dataset = { name = "digits" }

[[rungs]]
name = "logreg"
model = { kind = "logistic", backend = "sklearn", max_iter = 50 }
"""


def test_a_run_with_figures_draws_them_on_two_cores_where_it_may(invoke, write_toml, tiny_toml,
                                                                  tmp_path, monkeypatch):
    from ladder import budget, drawing

    asked, real = [], drawing.draw_figures

    def spy(runs, folder, on_drawn, helper):
        asked.append(helper)
        return real(runs, folder, on_drawn, helper)
    monkeypatch.setattr(drawing, "draw_figures", spy)
    monkeypatch.setattr(budget, "idle_cores", lambda *args, **kwargs: 2)  # an idle 2-core machine
    images = write_toml(TINY_IMAGES, "digits.toml")
    assert invoke("run", images, "--out", tmp_path / "drawn").exit_code == 0
    for args in (["--out", tmp_path / "plain", "--no-figures"], ["--jobs", "1", "--out", tmp_path / "one"],
                 ["--backend", "serial", "--out", tmp_path / "serial"], []):
        assert invoke("run", images, *args).exit_code == 0
    assert invoke("run", tiny_toml, "--out", tmp_path / "toys").exit_code == 0  # drawn here: few figures
    assert asked == [True, False, False, True]
    record = read_results(tmp_path / "drawn")["experiments"][0]
    assert len(record["figures"]) >= 5
    assert all((tmp_path / "drawn" / figure["file"]).exists() for figure in record["figures"])


def test_plain_ladder_run_is_the_progression(invoke, monkeypatch):
    import ladder.runner
    names = []

    class Ran:
        def __init__(self, spec):
            self.record = {"name": spec.name, "title": spec.title, "task": spec.task, "rungs": [],
                           "claims": [], "dataset": {"name": spec.dataset.name, "n_train": 1, "n_test": 1}}

    def fake(specs, seeds, plan, listener, datasets=None):
        names.extend(spec.name for spec in specs)
        return [Ran(spec) for spec in specs]
    monkeypatch.setattr(ladder.runner, "run_experiments", fake)
    assert invoke("run").exit_code == 0
    assert names == ["circles", "sine", "spirals", "mnist", "mnist-shift", "mnist1d"]


# -- list, --version ------------------------------------------------------------------------------
def test_list_shows_every_experiment_dataset_feature_map_and_model(invoke):
    from ladder.data import DATASETS
    from ladder.features import FEATURES
    from ladder.rungs import MODELS
    result = invoke("list")
    assert result.exit_code == 0
    names = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    for section in ("experiments", "datasets", "feature maps", "models"):
        assert section in result.stdout
    expected = [*exp.builtin_names(), *DATASETS, *FEATURES, *MODELS]
    assert {"circles", "sine", "spirals", "moons", "xor", "blobs", "linear", "line", "polynomial",
            "logistic", "mlp", "stacked_linear", "cnn"} <= set(expected)
    missing = [name for name in expected if name not in names]
    assert not missing, missing
    assert "Part 1, classification: two circles" in result.stdout


def test_version(invoke):
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"ladder {ladder.__version__}"


# -- mistakes: one line, exit 2, no traceback, no results file -------------------------------------
def edit(old: str, new: str) -> str:
    assert old in TINY, old
    return TINY.replace(old, new, 1)


#: (case, TOML text or None for tiny.toml, extra CLI args, what the one error line must say)
BAD_INPUT = [
    ("unknown key", edit("epochs = 30", "epoch = 30"), [],
     ["rungs[1] (mlp).train.epoch: unknown key", "valid keys: epochs, optimizer, lr"]),
    ("unknown top-level key", edit('title = "a tiny ladder"', 'titel = "a tiny ladder"'), [],
     ["titel: unknown key", "valid keys: name, title, story, dataset, rungs, claims"]),
    ("a rung's unknown key", TINY.replace('name = "logreg"', 'name = "logreg"\nmodle = 1', 1), [],
     ["rungs[0] (logreg).modle: unknown key", "valid keys: name, features, model, train, sweep, same_as"]),
    ("wrong type", edit("epochs = 30", 'epochs = "thirty"'), [],
     ["rungs[1] (mlp).train.epochs:", "valid integer"]),
    ("negative epochs", edit("epochs = 30", "epochs = -30"), [],
     ["rungs[1] (mlp).train.epochs:", "greater than or equal to 1"]),
    ("negative learning rate", edit("lr = 0.02", "lr = -0.02"), [],
     ["rungs[1] (mlp).train.lr:", "greater than 0"]),
    ("unknown optimizer", edit('optimizer = "adam"', 'optimizer = "rmsprop"'), [],
     ["rungs[1] (mlp).train.optimizer:", "'sgd' or 'adam'"]),
    ("unknown dataset", edit('name = "circles"', 'name = "circlez"'), [],
     ["dataset.name: unknown dataset 'circlez'", "circles, moons, spirals, xor, blobs, linear, sine, line"]),
    ("unknown dataset parameter", edit("noise = 0.1", "noice = 0.1"), [],
     ["dataset.noice: unknown parameter", "valid parameters: n, noise, factor, seed, test_size"]),
    ("unknown model", edit('kind = "mlp"', 'kind = "transformer"'), [],
     ["rungs[1] (mlp).model.kind: unknown model 'transformer'", "linear, logistic, mlp, stacked_linear, cnn"]),
    ("unknown model parameter", edit("hidden = [8]", "hidden = [8], depth = 3"), [],
     ["rungs[1] (mlp).model.depth: unknown parameter", "valid parameters: hidden, activation"]),
    ("wrong type of model parameter", edit("hidden = [8]", 'hidden = "wide"'), [],
     ["rungs[1] (mlp).model.hidden:", "valid list"]),
    ("unknown feature map", edit('model = { kind = "logistic", backend = "sklearn" }',
                                 'model = { kind = "logistic", backend = "sklearn" }\n'
                                 'features = { kind = "wavelet" }'), [],
     ["rungs[0] (logreg).features.kind: unknown feature map 'wavelet'", "polynomial, standardize"]),
    ("wrong backend", edit('backend = "sklearn"', 'backend = "jax"'), [],
     ["rungs[0] (logreg).model.backend: unknown backend", "'jax'", "sklearn, torch"]),
    ("train on an sklearn rung", edit('model = { kind = "logistic", backend = "sklearn" }',
                                      'model = { kind = "logistic", backend = "sklearn" }\n'
                                      'train = { epochs = 5 }'), [],
     ["rungs[0] (logreg).train: only PyTorch rungs", 'backend = "torch"']),
    ("duplicate rung names", edit('name = "mlp"', 'name = "logreg"'), [],
     ["rungs[1] (logreg).name: two rungs are called 'logreg'"]),
    ("a model that does not do the task", edit('name = "circles"', 'name = "sine"'), [],
     ["rungs[0] (logreg).model.kind: 'logistic' does not do regression"]),
    ("claim on a missing rung", edit("logreg.test_accuracy", "svm.test_accuracy"), [],
     ["claims[0].check: unknown rung 'svm'", "choose one of: logreg, mlp"]),
    ("claim on a missing metric", edit("logreg.test_accuracy", "logreg.test_r2"), [],
     ["claims[0].check (logreg): unknown metric 'test_r2'", "test_accuracy"]),
    ("bad claim syntax", edit("logreg.test_accuracy < 0.8", "logreg.test_accuracy is below 0.8"), [],
     ["claims[0].check: cannot read claim check", "<rung>.<metric> <op>"]),
    ("no rungs", TINY.split("[[rungs]]")[0], [], ["rungs: missing required key"]),
    ("malformed TOML", edit("[[rungs]]", "[[rungs]"), [], ["not valid TOML", "line"]),
    ("--device bogus", None, ["--device", "bogus"], ["--device 'bogus'", "auto, cpu, cuda, mps"]),
    ("an out folder below a file", None, ["--out", "{file}/sub"], ["--out", "cannot write there"]),
    ("an out path that is a file", None, ["--out", "{file}"], ["--out", "cannot write there"]),
]


@pytest.fixture
def a_file(tmp_path) -> Path:
    path = tmp_path / "a-regular-file"
    path.write_text("not a folder", encoding="utf-8")
    return path


def assert_one_clear_line(stderr: str, says: list[str]):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    for text in says:
        assert text in lines[0], (text, lines[0])
    assert "Traceback" not in stderr


@pytest.mark.parametrize("case, text, args, says", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_a_mistake_is_one_line_exit_2_and_no_results(invoke, tiny_toml, write_toml, a_file, tmp_path,
                                                     case, text, args, says):
    path = write_toml(text, "mine.toml") if text is not None else tiny_toml
    out = tmp_path / "out"
    args = [str(a).replace("{file}", str(a_file)) for a in args]
    if "--out" not in args:
        args += ["--out", str(out)]
    result = invoke("run", path, *args)
    assert result.exit_code == 2, (result.output, result.exception)
    if text is not None:
        says = [path.name, *says]
    assert_one_clear_line(result.stderr, says)
    assert result.stdout == ""  # nothing ran
    assert leftovers(out) == []
    assert a_file.read_text(encoding="utf-8") == "not a folder"


def test_unknown_experiment_name_lists_the_builtins(invoke, tmp_path):
    result = invoke("run", "circels", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert_one_clear_line(result.stderr, ["unknown experiment 'circels'", "circles, sine, spirals", ".toml"])
    assert not (tmp_path / "out").exists()


def test_a_missing_experiment_file_is_named(invoke, tmp_path):
    result = invoke("run", tmp_path / "nope.toml")
    assert result.exit_code == 2
    assert_one_clear_line(result.stderr, ["nope.toml", "cannot read the experiment file"])


def test_zero_seeds_is_refused(invoke, tiny_toml, tmp_path):
    result = invoke("run", tiny_toml, "--seeds", "0", "--out", tmp_path / "out")
    assert result.exit_code == 2 and "--seeds" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == "" and leftovers(tmp_path / "out") == []


def test_a_device_that_is_not_here_is_refused(invoke, tiny_toml):
    import torch
    if torch.cuda.is_available():
        pytest.skip("cuda is visible here")
    result = invoke("run", tiny_toml, "--device", "cuda")
    assert result.exit_code == 2
    assert_one_clear_line(result.stderr, ["--device cuda", "--device auto or cpu"])


def test_every_file_is_checked_before_anything_runs(invoke, write_toml, tmp_path):
    good = write_toml(TINY, "good.toml")
    bad = write_toml(edit("epochs = 30", "epochs = -1"), "bad.toml")
    result = invoke("run", good, bad, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "bad.toml" in result.stderr
    assert result.stdout == ""  # the good experiment was not trained first
    assert leftovers(tmp_path / "out") == []


def test_a_bad_dataset_value_names_the_file_and_the_key(invoke, write_toml, tmp_path):
    path = write_toml(edit("n = 200", "n = -5"), "mine.toml")
    result = invoke("run", path, "--out", tmp_path / "out")
    assert result.exit_code == 2, (result.output, result.exception)
    assert_one_clear_line(result.stderr, ["mine.toml", "dataset.n", "at least"])
    assert leftovers(tmp_path / "out") == []


def test_a_bad_feature_degree_is_a_clear_error(invoke, write_toml, tmp_path):
    path = write_toml(edit('model = { kind = "logistic", backend = "sklearn" }',
                           'model = { kind = "logistic", backend = "sklearn" }\n'
                           'features = { kind = "polynomial", degree = 0 }'))
    result = invoke("run", path, "--out", tmp_path / "out")
    assert result.exit_code == 2, (result.output, result.exception)
    assert_one_clear_line(result.stderr, ["spec.toml", "rungs[0] (logreg)", "degree"])
    assert leftovers(tmp_path / "out") == []


@pytest.mark.parametrize("backend", ["torch", "sklearn"])
def test_an_unknown_activation_is_a_clear_error_not_a_traceback(invoke, write_toml, tmp_path, backend):
    text = edit('hidden = [8], activation = "tanh"', f'hidden = [8], activation = "swish", backend = "{backend}"')
    if backend == "sklearn":
        text = text.replace("train = { epochs = 30, optimizer = \"adam\", lr = 0.02, batch_size = 32 }", "")
    result = invoke("run", write_toml(text), "--out", tmp_path / "out")
    assert result.exit_code == 2, (result.output, result.exception)
    assert_one_clear_line(result.stderr, ["spec.toml", "rungs[1] (mlp)", "activation", "relu"])
    assert leftovers(tmp_path / "out") == []


@pytest.mark.parametrize("value", ["true", '"30"'])
def test_epochs_of_the_wrong_type_are_refused_not_converted(invoke, write_toml, value):
    result = invoke("run", write_toml(edit("epochs = 30", f"epochs = {value}")))
    assert result.exit_code == 2, result.output
    assert_one_clear_line(result.stderr, ["spec.toml", "rungs[1] (mlp).train.epochs"])


def test_a_rung_whose_training_diverges_is_reported_without_a_traceback(invoke, write_toml, tmp_path):
    text = """
    name = "diverges"
    dataset = { name = "sine", n = 100 }

    [[rungs]]
    name = "line"
    model = { kind = "linear", backend = "torch" }
    train = { epochs = 50, optimizer = "sgd", lr = 100.0 }
    """
    result = invoke("run", write_toml(text), "--out", tmp_path / "out", "--no-figures")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        assert_one_clear_line(result.stderr, ["line"])
    else:
        line = read_results(tmp_path / "out")["experiments"][0]["rungs"][0]
        assert line["metrics"]["final_loss"]["mean"] is None  # diverged: written as null


def test_an_error_message_with_brackets_is_printed_as_written(invoke, write_toml):
    # rich markup must not eat "[train]" or choke on "[/]" in a message
    path = write_toml(edit('model = { kind = "logistic", backend = "sklearn" }',
                           'model = { kind = "logistic", backend = "sklearn" }\ntrain = { epochs = 5 }'))
    result = invoke("run", path)
    assert result.exit_code == 2
    assert "remove [train] or set" in result.stderr


# -- the same mistakes as a user sees them: a real process -----------------------------------------
ACCEPTANCE = {
    "unknown experiment name": (None, ["run", "circels"], ["unknown experiment 'circels'"]),
    "malformed TOML": (edit("[[rungs]]", "[[rungs]"), [], ["not valid TOML"]),
    "unknown key": (edit("epochs = 30", "epoch = 30"), [], ["rungs[1] (mlp).train.epoch: unknown key"]),
    "wrong type": (edit("epochs = 30", 'epochs = "thirty"'), [], ["rungs[1] (mlp).train.epochs:"]),
    "negative epochs": (edit("epochs = 30", "epochs = -30"), [], ["rungs[1] (mlp).train.epochs:"]),
    "claim on a missing rung": (edit("logreg.test_accuracy", "svm.test_accuracy"), [],
                                ["claims[0].check: unknown rung 'svm'"]),
    "--out on an unwritable path": (TINY, ["--out", "{file}/sub"], ["--out", "cannot write there"]),
    "rich markup in a name": (None, ["run", "[/]"], ["unknown experiment '[/]'"]),
}


@pytest.fixture(scope="module")
def real_processes(tmp_path_factory):
    """Every ACCEPTANCE case, plus one run that succeeds, as real `ladder` processes, four at a time
    (each pays the full start-up, which is most of its time)."""
    running, finished = [], {}

    def finish(case, process, folder):
        stdout, stderr = process.communicate()
        finished[case] = (process.returncode, stdout, stderr, folder)

    for case, (text, args, says) in [*ACCEPTANCE.items(), ("success", (TINY, ["--strict"], []))]:
        folder = tmp_path_factory.mktemp("process")
        a_file = folder / "a-regular-file"
        a_file.write_text("not a folder", encoding="utf-8")
        if text is not None:
            (folder / "mine.toml").write_text(text, encoding="utf-8")
            args = ["run", "mine.toml", *args]
        args = [a.replace("{file}", str(a_file)) for a in args]
        if "--out" not in args:
            args += ["--out", str(folder / "out")]
        running.append((case, start_ladder(*args, cwd=folder), folder))
        if len(running) == 4:
            finish(*running.pop(0))
    for item in running:
        finish(*item)
    return finished


@pytest.mark.parametrize("case", ACCEPTANCE)
def test_a_mistake_in_a_real_process_exits_2_without_a_traceback(case, real_processes):
    text, args, says = ACCEPTANCE[case]
    code, stdout, stderr, folder = real_processes[case]
    if text is not None and "--out" not in args:
        says = [*says, "mine.toml"]
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert_one_clear_line(stderr, says)
    assert stdout == ""
    assert leftovers(folder / "out") == [] and not list(folder.rglob("results.json"))
    assert not temporary_files(folder)
    assert (folder / "a-regular-file").read_text(encoding="utf-8") == "not a folder"


def test_a_real_run_exits_0_and_writes_results(real_processes):
    code, stdout, stderr, folder = real_processes["success"]
    assert code == 0, stderr
    assert "Traceback" not in stderr
    results = json.loads((folder / "out" / "results.json").read_text(encoding="utf-8"))
    assert [c["holds"] for c in results["experiments"][0]["claims"]] == [True]
    assert "1/1 claims hold" in stdout and not temporary_files(folder)


# -- every command as a real process: each one's imports, end to end -------------------------------
def test_data_fetch_finds_and_checks_a_copy_already_there():
    from conftest import run_ladder
    from test_experiments import DATA_DIR

    done = run_ladder("data", "fetch", "mnist", "--data-dir", DATA_DIR)
    assert done.returncode == 0, done.stderr
    assert "MNIST is already here, checked" in done.stdout


def test_play_starts_a_server_that_serves_the_page(tmp_path):
    import socket
    import urllib.request

    from conftest import start_ladder

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start_ladder("play", "--no-browser", "--port", port)
    try:
        first = server.stdout.readline()  # printed once it listens
        assert f"http://127.0.0.1:{port}/" in first, (first, server.stderr.read() if server.poll() else "")
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/").read().decode("utf-8")
        assert 'data-testid="boundary"' in page
    finally:
        server.terminate()
        server.wait()


def test_jobs_auto_spreads_toys_with_enough_training_and_any_run_with_images():
    import math

    import numpy as np

    from ladder import budget, experiments
    from ladder.data import Dataset
    from ladder.plan import parallel_work
    from ladder.runner import load_datasets

    toys = [experiments.resolve(name) for name in ("circles", "sine", "spirals")]
    toy_data = load_datasets(toys)
    images = Dataset("digits", "classification", np.zeros((4, 8, 8), np.uint8), np.zeros((2, 8, 8), np.uint8),
                     np.arange(4) % 2, np.arange(2))
    n_tasks = 3 * sum(len(spec.rungs) for spec in toys)
    assert budget.plan(n_tasks, "auto", cores=2, work=parallel_work(toys, toy_data, 3)) == (2, 1)
    assert budget.plan(n_tasks, "auto", cores=2, work=parallel_work(toys[:1], toy_data[:1], 1)) == (1, 2)
    # Threads start at once, so a run with images spreads whatever its size; one job a free core.
    with_images = parallel_work(toys + [experiments.resolve("mnist")], toy_data + [images], 1)
    assert with_images == math.inf
    assert budget.plan(len(toys) + 7, "auto", cores=2, work=with_images) == (2, 1)
    assert budget.plan(len(toys) + 7, "auto", cores=1, work=with_images) == (1, 1)  # beside a busy core
    # A convolutional rung's training is worth the workers' start-up whatever the data: MNIST-1D's
    # 4,000 signals are few sample passes, but each pass of the 1-D CNN is costly.
    signals = Dataset("mnist1d", "classification", np.zeros((40, 40)), np.zeros((10, 40)), np.arange(40) % 10,
                      np.arange(10))
    assert parallel_work([experiments.resolve("mnist1d")], [signals], 1) == math.inf


HEAVY = ("numpy", "torch", "sklearn", "matplotlib", "scipy")


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["list"]])
def test_the_quick_commands_import_no_heavy_library(args):
    # What makes `ladder --help` and `ladder list` answer at once: torch alone takes 1-3 s to import.
    import subprocess
    import sys

    script = ("import sys\nfrom ladder.cli import main\nsys.argv = ['ladder', *sys.argv[1:]]\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              f"print('imported:', *sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True)
    assert done.stdout.strip(), done.stderr  # the command did answer
    assert done.stderr.strip().splitlines()[-1] == "imported:", done.stderr


# -- leaving: once PyTorch is loaded, `ladder` skips the interpreter's teardown -------------------
LEAVE = """
import atexit, sys, threading, time
import torch
from ladder.cli import main
atexit.register(lambda: print("atexit ran", flush=True))
if "--no-private-atexit" in sys.argv:  # a Python whose atexit has no _run_exitfuncs
    del atexit._run_exitfuncs
if "--thread" in sys.argv:
    threading.Thread(target=lambda: (time.sleep(0.3), print("thread finished", flush=True))).start()
sys.argv = ["ladder", *sys.argv[1:sys.argv.index("--")]]
main()
"""


@pytest.mark.parametrize("args, code", [(["list"], 0), (["run", "no-such-experiment"], 2),
                                        (["--no-such-option"], 2)])
def test_the_quick_exit_keeps_the_exit_status_and_runs_atexit(args, code):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", LEAVE, *args, "--"], capture_output=True, text=True)
    assert done.returncode == code, done.stderr
    assert done.stdout.rstrip().endswith("atexit ran")  # after everything the command printed
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args, code", [(["list"], 0), (["run", "no-such-experiment"], 2)])
def test_without_the_private_atexit_function_the_exit_is_the_usual_one(args, code):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", LEAVE, *args, "--", "--no-private-atexit"],
                          capture_output=True, text=True)
    assert done.returncode == code, done.stderr
    assert done.stdout.rstrip().endswith("atexit ran")  # by Python's own exit this time
    assert "Traceback" not in done.stderr


def test_the_quick_exit_waits_for_a_thread_still_running():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", LEAVE, "list", "--", "--thread"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "thread finished" in done.stdout and "atexit ran" in done.stdout


# -- the worker processes' server, started before the experiments are read -----------------------
@pytest.mark.parametrize("targets, seeds, jobs, backend, cores, likely", [
    (["circles", "sine", "spirals"], 3, "auto", "local", 2, True),
    (["circles"], 1, "2", "local", 2, True),       # jobs asked for
    (["circles"], 1, "auto", "local", 2, False),   # one seed: too little to share, as a rule
    (["circles"], 3, "1", "local", 2, False),
    (["circles"], 3, "auto", "serial", 2, False),
    (["circles"], 3, "auto", "ray", 2, False),
    (["circles"], 3, "auto", "local", 1, False),   # beside a busy core
    (["circles", "mnist-shift"], 3, "auto", "local", 2, False),  # images: jobs are threads
])
def test_workers_are_started_early_only_where_the_run_is_likely_to_use_them(targets, seeds, jobs, backend,
                                                                           cores, likely):
    from ladder.plan import workers_likely

    assert workers_likely(targets, seeds, jobs, backend, cores) is likely


def test_an_early_server_is_stopped_when_the_run_plans_no_workers(invoke, tiny_toml, monkeypatch):
    from multiprocessing import forkserver

    from ladder import budget, executors

    started, start = [], executors.start_workers_early
    monkeypatch.setattr(budget, "idle_cores", lambda: 2)
    monkeypatch.setattr(executors, "start_workers_early",
                        lambda: started.append(start() or forkserver._forkserver._forkserver_pid))
    result = invoke("run", tiny_toml, "--seeds", "2")  # two tiny tasks: too little training to share
    assert result.exit_code == 0, result.output
    assert len(started) == 1 and started[0] is not None
    assert forkserver._forkserver._forkserver_pid is None
    with pytest.raises(ChildProcessError):  # ended and reaped
        os.waitpid(started[0], os.WNOHANG)


def test_a_run_started_early_gives_the_numbers_of_a_serial_run(tmp_path):
    from conftest import run_ladder

    runs = {}
    for jobs in ("2", "1"):  # 2: the server starts before the experiment is read, then runs the tasks
        done = run_ladder("run", "circles", "--jobs", jobs, "--out", tmp_path / jobs)
        assert done.returncode == 0, done.stderr
        runs[jobs] = json.loads((tmp_path / jobs / "results.json").read_text(encoding="utf-8"))
    metrics = {jobs: [r["metrics"] for r in doc["experiments"][0]["rungs"]] for jobs, doc in runs.items()}
    assert metrics["2"] == metrics["1"] and len(metrics["1"]) == 4


IMPOSSIBLE_MODELS = [
    ('kind = "mlp", hidden = [-3]', "model.hidden[0]", "(got -3)"),
    ('kind = "mlp", hidden = [0]', "model.hidden[0]", "(got 0)"),
    ('kind = "mlp", hidden = [8, 0]', "model.hidden[1]", "(got 0)"),
    ('kind = "stacked_linear", hidden = [-1]', "model.hidden[0]", "greater than or equal to 1"),
    ('kind = "mlp", backend = "sklearn", hidden = [0]', "model.hidden[0]", "greater than or equal to 1"),
    ('kind = "logistic", backend = "sklearn", C = -1.0', "model.C", "greater than 0"),
    ('kind = "logistic", backend = "sklearn", max_iter = 0', "model.max_iter", "greater than or equal to 1"),
]


@pytest.mark.parametrize("model, key, says", IMPOSSIBLE_MODELS, ids=[m[0] for m in IMPOSSIBLE_MODELS])
def test_an_impossible_model_parameter_is_caught_when_the_file_is_read(invoke, write_toml, tmp_path,
                                                                       model, key, says):
    """`hidden = [-3]` used to train and fail inside PyTorch (exit 0), `hidden = [0]` to train a
    one-parameter "MLP" in silence: both are mistakes in the file, named before anything trains."""
    path = write_toml(f"""
        name = "mine"
        dataset = {{ name = "circles", n = 100 }}
        [[rungs]]
        name = "net"
        model = {{ {model} }}
    """, "mine.toml")
    for args in (["run", path, "--out", tmp_path / "out"], ["inspect", f"{path}:net"]):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output, result.exception)
        assert_one_clear_line(result.stderr, ["mine.toml", f"rungs[0] (net).{key}", says])
        assert result.stdout == ""  # nothing trained, nothing drawn
    assert not (tmp_path / "out").exists()


def test_inspect_refuses_an_impossible_width_given_on_the_command_line(invoke):
    result = invoke("inspect", "mlp", "--param", "hidden=[-3]")
    assert result.exit_code == 2
    assert_one_clear_line(result.stderr, ["hidden = [-3]", "at least 1 unit"])
