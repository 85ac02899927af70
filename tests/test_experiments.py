"""The built-in experiments beyond the toy parts: MNIST (part 4), the glass-box lessons, sweeps.

Each runs through the public CLI and is judged by its results.json, as a user would see it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import LADDER, read_results

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = os.environ.get("LADDER_DATA_DIR") or str(REPO.parent / "shared" / "data")


def ladder(*args, env=None) -> subprocess.CompletedProcess:
    """`ladder *args` in a fresh process, as a user runs it (no timeout: CI machines may be busy)."""
    command = [str(LADDER)] if LADDER.exists() else [sys.executable, "-m", "ladder.cli"]
    return subprocess.run(command + [str(a) for a in args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def rung(experiment: dict, name: str) -> dict:
    return next(r for r in experiment["rungs"] if r["name"] == name)


def accuracy(experiment: dict, name: str) -> float:
    return rung(experiment, name)["metrics"]["test_accuracy"]["mean"]


# -- part 4: MNIST ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mnist_parts(tmp_path_factory):
    """`ladder run mnist mnist-shift` on the real MNIST (../shared/data): it must be there, never a
    fallback. Parts 4 and 5 together, as the plain `ladder run` runs them (part 5 reuses part 4's models)."""
    assert Path(DATA_DIR, "mnist").is_dir(), f"MNIST is missing from {DATA_DIR}: set LADDER_DATA_DIR"
    out = tmp_path_factory.mktemp("mnist")
    done = ladder("run", "mnist", "mnist-shift", "--no-figures", "--out", out, env={"LADDER_DATA_DIR": DATA_DIR})
    assert done.returncode == 0, done.stderr
    return read_results(out)["experiments"], done.stdout


@pytest.fixture(scope="module")
def mnist_run(mnist_parts):
    experiments, stdout = mnist_parts
    return experiments[0], stdout


@pytest.mark.slow
def test_mnist_is_the_real_thing_not_the_digits_fallback(mnist_run):
    experiment, _ = mnist_run
    assert experiment["dataset"]["name"] == "mnist" and "fallback_for" not in experiment["dataset"]
    assert (experiment["dataset"]["n_train"], experiment["dataset"]["n_test"]) == (60_000, 10_000)


@pytest.mark.slow
def test_every_mnist_claim_holds(mnist_run):
    experiment, stdout = mnist_run
    failed = [c["text"] for c in experiment["claims"] if not c["holds"]]
    assert not failed, stdout
    assert len(experiment["claims"]) >= 13


@pytest.mark.slow
def test_hog_a_researched_phi_nearly_matches_the_mlp_a_quick_guess_does_not(mnist_run):
    """Part 4's whole truth: HOG lifts the linear model well above the raw pixels, to within a point
    of the MLP, which learns as much from the pixels alone; the 71 guessed features fall below."""
    experiment, _ = mnist_run
    hog, mlp, raw = (accuracy(experiment, r) for r in ("logreg+hog", "mlp", "logreg"))
    assert hog >= raw + 0.03 and abs(hog - mlp) <= 0.01
    assert accuracy(experiment, "logreg+handcrafted") < raw
    checks = {c["check"] for c in experiment["claims"]}
    assert {"logreg+hog.test_accuracy >= logreg.test_accuracy + 0.03",
            "logreg+hog.test_accuracy >= mlp.test_accuracy - 0.01",
            "mlp.test_accuracy >= logreg+hog.test_accuracy - 0.01"} <= checks
    assert "decades of vision research" in experiment["story"]
    assert "Hand-crafted features (ink" not in experiment["story"]  # no longer "hand-made φ loses" alone


@pytest.mark.slow
def test_mnist_rungs_reproduce_the_course_numbers(mnist_run):
    experiment, _ = mnist_run
    assert accuracy(experiment, "logreg") >= 0.92
    assert accuracy(experiment, "logreg-torch") >= 0.915
    assert 0.80 <= accuracy(experiment, "logreg+handcrafted") <= 0.88
    assert accuracy(experiment, "logreg+pca2") <= 0.5
    assert accuracy(experiment, "mlp") >= 0.97
    assert accuracy(experiment, "cnn") >= 0.99
    assert accuracy(experiment, "cnn") > accuracy(experiment, "mlp") > accuracy(experiment, "logreg") \
        > accuracy(experiment, "logreg+handcrafted")
    assert "test_accuracy" in rung(experiment, "logreg+hog")["metrics"]  # reported, no claim


@pytest.mark.slow
def test_mnist_parameter_and_feature_counts_are_exact(mnist_run):
    experiment, _ = mnist_run
    assert rung(experiment, "logreg-torch")["n_params"] == 7_850  # 784·10 + 10
    assert rung(experiment, "mlp")["n_params"] == 101_770  # 784·128+128 + 128·10+10
    assert rung(experiment, "cnn")["n_params"] == 206_922  # 160 + 4,640 + 200,832 + 1,290
    assert rung(experiment, "logreg+handcrafted")["n_features"] == 71  # 15 + 28 rows + 28 columns
    assert rung(experiment, "logreg+pca2")["n_features"] == 2


@pytest.mark.slow
def test_the_cnn_says_it_was_trained_with_label_smoothing(mnist_run):
    experiment, stdout = mnist_run
    cnn = rung(experiment, "cnn")
    assert cnn["label_smoothing"] == 0.1
    assert any("label smoothing 0.1: its loss cannot fall below 0.50" in note for note in cnn["notes"])
    assert cnn["metrics"]["final_loss"]["mean"] > 0.50  # the floor the note names
    assert "note (cnn): trained with label smoothing 0.1" in stdout
    assert "label_smoothing" not in rung(experiment, "mlp") and not rung(experiment, "mlp").get("notes")


@pytest.mark.slow
def test_every_part_5_claim_holds(mnist_parts):
    (_, shift), stdout = mnist_parts
    failed = [c["text"] for c in shift["claims"] if not c["holds"]]
    assert not failed, stdout
    assert len(shift["claims"]) == 12


@pytest.mark.slow
def test_part_5_scores_the_part_4_models_instead_of_training_them_again(mnist_parts):
    (mnist, shift), _ = mnist_parts
    for here, there in (("linear", "logreg-torch"), ("mlp", "mlp"), ("cnn", "cnn")):
        reused = rung(shift, here)
        assert reused["same_as"] == f"mnist:{there}"
        assert reused["metrics"]["test_accuracy"] == rung(mnist, there)["metrics"]["test_accuracy"]
        assert any("not trained again" in note for note in reused["notes"])
    assert "same_as" not in rung(shift, "cnn+aug") and rung(shift, "cnn+aug")["augmented"]["shift"] == 3


def test_part_5_trains_its_cnn_on_moved_digits_exactly_as_part_4_trains_its_cnn():
    from ladder import experiments

    (cnn,) = [r for r in experiments.resolve("mnist").rungs if r.name == "cnn"]
    (moved,) = [r for r in experiments.resolve("mnist-shift").rungs if r.name == "cnn+aug"]
    assert moved.model == cnn.model and cnn.train.augment is None
    assert moved.train.augment.shift == 3 and moved.train.augment.rotate == 20
    assert moved.train.model_copy(update={"augment": None}) == cnn.train


@pytest.mark.slow
def test_part_5_measures_every_shift_and_rotation_on_2000_test_digits(mnist_parts):
    (_, shift), stdout = mnist_parts
    assert shift["probes"]["n_test"] == 2000
    for r in shift["rungs"]:
        curve = [r["metrics"][f"shift_{s}_accuracy"]["mean"] for s in range(5)]
        assert curve[0] > curve[4]  # every model loses something at 4 pixels
        assert {f"rotate_{d}_accuracy" for d in (0, 10, 20, 30)} <= set(r["metrics"])
    assert "the first 2,000 test images" in stdout


@pytest.mark.slow
def test_torch_rungs_record_test_accuracy_per_epoch(mnist_run):
    experiment, _ = mnist_run
    cnn = rung(experiment, "cnn")
    epochs = len(cnn["history"]["loss"][0])
    assert len(cnn["history"]["test_accuracy"][0]) == epochs >= 1
    assert cnn["history"]["test_accuracy"][0][-1] == pytest.approx(cnn["metrics"]["test_accuracy"]["mean"])


def test_without_mnist_the_image_part_falls_back_to_digits_and_says_so(tmp_path):
    empty = tmp_path / "no-data"
    empty.mkdir()
    out = tmp_path / "out"
    env = {"LADDER_DATA_DIR": str(empty), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "LADDER_MNIST_MIRRORS": "http://127.0.0.1:9/"}  # nothing listens on port 9: offline
    done = ladder("run", "mnist", "--no-figures", "--out", out, env=env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "ladder data fetch mnist" in done.stdout  # the note says how to get MNIST
    experiment = read_results(out)["experiments"][0]
    assert experiment["dataset"]["name"] == "digits"
    assert experiment["dataset"]["fallback_for"] == "mnist"
    assert "in place of mnist" in done.stdout  # and the table is marked as such
    assert rung(experiment, "cnn")["n_params"] < 206_922  # the CNN adapted to 8×8 images
    assert accuracy(experiment, "cnn") > 0.5  # trained, though MNIST's 4 epochs are few steps on 1,347 digits


def test_claims_written_for_mnist_are_not_checked_on_the_stand_in(tmp_path):
    """Offline with no MNIST, parts 4 and 5 run on the 8×8 digits: a claim about MNIST is neither
    true nor false there, so none is marked ✓ or ✗ and the closing line says why."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    out = tmp_path / "out"
    env = {"LADDER_DATA_DIR": str(empty), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "LADDER_MNIST_MIRRORS": "http://127.0.0.1:9/"}  # nothing listens on port 9: offline
    done = ladder("run", "mnist", "mnist-shift", "circles", "--no-figures", "--out", out, env=env)
    assert done.returncode == 0, done.stderr
    experiments = {e["name"]: e for e in read_results(out)["experiments"]}
    stand_in = experiments["mnist"]["claims"] + experiments["mnist-shift"]["claims"]
    assert all(c["holds"] is None and c["reason"].startswith("not checked: mnist was not available")
               for c in stand_in)
    assert all(c["holds"] is True for c in experiments["circles"]["claims"])  # checked as ever
    n_circles = len(experiments["circles"]["claims"])
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith(f"{n_circles}/{n_circles} claims checked hold; {len(stand_in)} not checked: "
                           "mnist was not available; ran on digits in its place")
    assert "✗" not in done.stdout
    assert done.stdout.count("Using scikit-learn's 8×8 digits instead of MNIST") == 1  # one note, two parts
    assert "the first 2,000 test images" not in done.stdout  # the stand-in has only 450
    assert "every test image" in done.stdout


def test_inspect_builds_the_mnist_cnn_without_mnist(tmp_path):
    empty = tmp_path / "no-data"
    empty.mkdir()
    env = {"LADDER_DATA_DIR": str(empty), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "LADDER_MNIST_MIRRORS": "http://127.0.0.1:9/"}
    done = ladder("inspect", "mnist:cnn", env=env)
    assert done.returncode == 0, done.stderr
    assert "206,922" in done.stdout and "16×28×28" in done.stdout
    hog = ladder("inspect", "mnist:logreg+hog", env=env)
    assert hog.returncode == 0 and "3,250" in hog.stdout  # (324 HOG features + 1)·10


# -- the glass-box lessons ------------------------------------------------------------------------
LESSONS = ["line", "break-the-loop", "pass-fail", "linear-data", "circles-small", "blobs5", "noisy-circles",
           "mnist-softmax"]


@pytest.fixture(scope="module")
def lessons(tmp_path_factory):
    """All the lessons in one `ladder run`, as a course would run them."""
    out = tmp_path_factory.mktemp("lessons")
    done = ladder("run", *LESSONS, "--no-figures", "--out", out, env={"LADDER_DATA_DIR": DATA_DIR})
    assert done.returncode == 0, done.stderr
    return {e["name"]: e for e in read_results(out)["experiments"]}, done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", LESSONS)
def test_every_claim_of_the_lesson_holds(lessons, name):
    experiments, stdout = lessons
    failed = [c["text"] for c in experiments[name]["claims"] if not c["holds"]]
    assert experiments[name]["claims"] and not failed, stdout


@pytest.mark.slow
def test_the_hand_written_model_is_nn_linear_step_for_step(lessons):
    line = lessons[0]["line"]
    by_hand, torch_linear = rung(line, "by-hand")["metrics"], rung(line, "nn.Linear")["metrics"]
    for key in ("w1", "b", "final_loss"):
        assert by_hand[key]["mean"] == torch_linear[key]["mean"]
    assert abs(torch_linear["w1"]["mean"] - 2) < 0.1
    assert rung(line, "sklearn")["metrics"]["train_mse"]["mean"] < 1e-20  # 2, 4, 6, 8 exactly


@pytest.mark.slow
def test_forgetting_zero_grad_breaks_training(lessons):
    lesson = lessons[0]["break-the-loop"]
    broken = rung(lesson, "without-zero_grad")["metrics"]["final_loss"]["mean"]
    fixed = rung(lesson, "with-zero_grad")["metrics"]["final_loss"]["mean"]
    assert broken is None or broken > 10 * fixed  # null: it diverged to infinity


@pytest.mark.slow
def test_pass_fail_reports_the_decision_line(lessons):
    metrics = rung(lessons[0]["pass-fail"], "logreg")["metrics"]
    w1, w2, b = (metrics[k]["mean"] for k in ("w1", "w2", "b"))
    # The line w1·x1 + w2·x2 + b = 0 passes between the cluster centres (2, 2) and (6, 6).
    assert (w1 * 2 + w2 * 2 + b) * (w1 * 6 + w2 * 6 + b) < 0


@pytest.mark.slow
def test_stacked_linear_layers_stay_linear_and_relu_bends(lessons):
    lesson = lessons[0]["noisy-circles"]
    straight = rung(lesson, "stacked-linear")["metrics"]["boundary_linearity"]["mean"]
    bent = rung(lesson, "mlp")["metrics"]["boundary_linearity"]["mean"]
    assert straight >= 0.99 and bent < straight - 0.05
    widths = [r for r in lesson["rungs"] if r["name"].startswith("mlp-width-")]
    assert [r["sweep"]["model.hidden"] for r in widths] == [[2], [3], [5], [10]]


@pytest.mark.slow
def test_softmax_loss_falls_every_epoch_on_mnist(lessons):
    softmax = rung(lessons[0]["mnist-softmax"], "softmax")
    losses = softmax["history"]["loss"][0]
    assert len(losses) == 5 and all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] <= 0.45


# -- sweeps: part of the public TOML format ------------------------------------------------------
SWEEP = """
name = "widths"
dataset = { name = "circles", n = 200, noise = 0.1, seed = 0 }

[[rungs]]
name = "mlp"
model = { kind = "mlp", activation = "relu" }
train = { epochs = 150, lr = 0.05 }
sweep = { "model.hidden" = [[1], [16, 16]], "train.lr" = [0.05] }

[[claims]]
text = "Sixteen and sixteen units beat a single one"
check = "mlp-16x16-0.05.test_accuracy > mlp-1-0.05.test_accuracy"
"""


def test_a_sweep_expands_one_rung_per_value(write_toml, tmp_path):
    out = tmp_path / "out"
    done = ladder("run", write_toml(SWEEP), "--no-figures", "--out", out)
    assert done.returncode == 0, done.stderr
    experiment = read_results(out)["experiments"][0]
    assert [r["name"] for r in experiment["rungs"]] == ["mlp-1-0.05", "mlp-16x16-0.05"]
    assert [r["sweep"] for r in experiment["rungs"]] == [{"model.hidden": [1], "train.lr": 0.05},
                                                        {"model.hidden": [16, 16], "train.lr": 0.05}]
    assert [r["n_params"] for r in experiment["rungs"]] == [2 * 1 + 1 + 1 + 1, 48 + 272 + 17]
    assert experiment["claims"][0]["holds"]


@pytest.mark.parametrize("sweep, says", [
    ('{ "hidden" = [[2]] }', "'hidden' is not a swept parameter"),
    ('{ "model.hidden" = [] }', "model.hidden: give at least one value"),
    ('{ "train.epochs" = [-1] }', "train.epochs"),
])
def test_a_bad_sweep_is_one_clear_error(write_toml, sweep, says):
    path = write_toml(SWEEP.replace('sweep = { "model.hidden" = [[1], [16, 16]], "train.lr" = [0.05] }',
                                    f"sweep = {sweep}").replace("[[claims]]", "[[x]]").split("[[x]]")[0])
    done = ladder("run", path, "--no-figures")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    line, = done.stderr.strip().splitlines()
    assert str(path) in line and "sweep" in line and says in line, line


def test_ladder_list_names_every_lesson():
    done = ladder("list")
    assert done.returncode == 0
    for name in LESSONS + ["circles", "sine", "spirals", "mnist"]:
        assert name in done.stdout
