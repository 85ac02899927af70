"""The page's set-up as an experiment file: ladder's loader reads it, and `ladder run` on it
gives the page's test loss and accuracy at the same epoch, to the last bit."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pytest

from ladder import experiments
from ladder.play.export import NET, experiment, settings_of, toml_text
from ladder.play.session import Session
from ladder.runner import run_experiment


def trained(epochs: int, **settings) -> Session:
    session = Session(**settings)
    for _ in range(epochs):
        session.step()
    return session


def exported(session: Session, tmp_path):
    """The session's export written where a download would land, and read by ladder's loader."""
    reply = session.apply({"type": "export"})[0]
    path = tmp_path / reply["filename"]
    path.write_text(reply["toml"], encoding="utf-8")
    return reply, experiments.load(path)


def net_of(record: dict) -> dict:
    return next(r for r in record["rungs"] if r["name"] == NET)


TWO_CLASSES = {"dataset": "circles", "points": 300, "noise": 0.15, "train_ratio": 0.7, "seed": 3,
               "features": ["x1", "x2", "x1sq"], "hidden": [5, 3], "activation": "tanh", "lr": 0.05,
               "batch_size": 16}
# 280 test points: more than the 256 rows the estimators predict at a time.
FOUR_CLASSES = {"dataset": "blobs", "classes": 4, "points": 700, "noise": 0.3, "train_ratio": 0.6, "seed": 11,
                "features": ["x1", "x2"], "hidden": [6], "activation": "relu", "lr": 0.1, "batch_size": 25,
                "regularization": "l2", "reg_rate": 0.002}


@pytest.mark.parametrize("settings", [TWO_CLASSES, FOUR_CLASSES], ids=["2 classes", "4 classes"])
def test_ladder_run_on_the_export_gives_the_pages_test_loss_and_accuracy(tmp_path, settings):
    session = trained(9, **settings)
    _, spec = exported(session, tmp_path)
    net = net_of(run_experiment(spec, [settings["seed"]]).record)
    # Equal, not close: the same points, φ, initial weights, batches and loop, so the same floats.
    assert net["metrics"]["test_loss"]["values"] == [session.loss_test]
    assert net["metrics"]["test_accuracy"]["values"] == [session.accuracy()["accuracy_test"]]
    assert session.epoch == 9 and len(net["history"]["loss"][0]) == 9


def test_l1_trains_the_same_on_the_page_and_in_ladder_run(tmp_path):
    settings = {**TWO_CLASSES, "regularization": "l1", "reg_rate": 0.01, "dataset": "plane", "seed": 4}
    session = trained(6, **settings)
    _, spec = exported(session, tmp_path)
    net = net_of(run_experiment(spec, [4]).record)
    assert net["metrics"]["test_loss"]["values"] == [session.loss_test]  # mean squared error here


def test_the_python_the_page_shows_prints_the_pages_numbers(tmp_path, capsys):
    session = trained(5, **TWO_CLASSES)
    reply, _ = exported(session, tmp_path)
    exec(compile(reply["python"], "exported.py", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"test loss {session.loss_test}", f"test accuracy {session.accuracy()['accuracy_test']}"]


def test_an_export_after_the_learning_rate_changed_says_its_numbers_will_differ():
    session = trained(2, **TWO_CLASSES)
    assert "changed" not in session.apply({"type": "export"})[0]["toml"]
    session.apply({"type": "set", "settings": {"lr": 0.2}})
    session.step()
    assert "The training settings changed after epoch 2" in session.apply({"type": "export"})[0]["toml"]


def test_the_export_holds_the_network_the_comparison_and_its_claims():
    session = trained(3, **FOUR_CLASSES)
    data = tomllib.loads(session.apply({"type": "export"})[0]["toml"])
    assert data["dataset"] == {"name": "playground", "pattern": "blobs", "n": 700, "noise": 0.3, "classes": 4,
                               "test_size": 1 - 0.6, "seed": 11}
    assert [r["name"] for r in data["rungs"]] == [NET, "raw", "phi", "mlp"]
    net = data["rungs"][0]
    assert net["features"] == {"kind": "playground", "inputs": ["x1", "x2"]}
    assert net["model"] == {"kind": "mlp", "hidden": [6], "activation": "relu"}
    assert net["train"] == {"epochs": 3, "optimizer": "sgd", "lr": 0.1, "batch_size": 25, "weight_decay": 0.002}
    assert data["claims"][-1]["check"] == "phi.test_accuracy >= mlp.test_accuracy - 0.05"


@pytest.mark.parametrize("dataset", ["circles", "xor", "gauss", "spirals", "moons", "blobs", "plane", "sine"])
def test_every_data_set_of_the_page_exports_a_file_ladder_reads(dataset):
    session = Session(dataset=dataset, features=["x1", "sinx2"], hidden=[], activation="linear")
    spec = experiments.validate(tomllib.loads(toml_text(experiment(session.settings, 0, session.data.task))))
    assert spec.task == session.data.task
    assert spec.rungs[0].train.epochs == 1  # an untrained page exports one epoch, the least a file runs


# -- and back: `ladder play --experiment FILE:RUNG` ---------------------------------------------
def one_clear_line(result, says: list[str]):
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    for text in says:
        assert text in lines[0], (text, lines[0])


@pytest.mark.parametrize("target, says", [
    ("mnist:cnn", ["mnist:cnn", "cannot show a CNN"]),
    ("mnist:mlp", ["mnist:mlp", "cannot show the data set 'mnist'"]),
    ("sine:mlp", ["sine:mlp", "cannot show the data set 'sine'"]),
    ("circles:logreg", ["circles:logreg", "scikit-learn model"]),
    ("circles:nope", ["'circles' has no rung 'nope'", "logreg, logreg-torch"]),
    ("circels:mlp", ["unknown experiment 'circels'"]),
    ("circles", ["write EXPERIMENT:RUNG", "circles:mlp"]),
], ids=["a CNN", "images", "1-D data", "a scikit-learn model", "no such rung", "no such experiment",
        "no rung named"])
def test_a_rung_the_page_cannot_show_is_refused_in_one_line(invoke, target, says):
    one_clear_line(invoke("play", "--experiment", target, "--no-browser", "--port", "1"), says)


@pytest.mark.parametrize("rung, says", [
    ('dataset = { name = "digits" }\n[[rungs]]\nname = "cnn"\nmodel = { kind = "cnn" }', "cannot show a CNN"),
    ('dataset = { name = "circles" }\n[[rungs]]\nname = "mlp"\nfeatures = { kind = "polynomial" }\n'
     'model = { kind = "mlp" }', "cannot show the feature map 'polynomial'"),
], ids=["a CNN", "another φ"])
def test_a_rung_of_a_users_file_the_page_cannot_show_is_refused(invoke, tmp_path, rung, says):
    path = tmp_path / "mine.toml"
    path.write_text(f'name = "mine"\n{rung}\n', encoding="utf-8")
    name = rung.split('name = "')[2].split('"')[0]
    one_clear_line(invoke("play", "--experiment", f"{path}:{name}", "--no-browser", "--port", "1"),
                   [f"{path}:{name}", says])


def test_an_exported_rung_opens_with_the_settings_it_was_exported_with(tmp_path):
    session = trained(2, **FOUR_CLASSES)
    _, spec = exported(session, tmp_path)
    settings, notes = settings_of(spec, NET)
    assert settings == {key: session.settings[key] for key in settings}
    assert set(settings) == set(session.settings) and notes == ["the rung trains for 2 epochs: press play, or step"]


def test_circles_mlp_opens_its_data_phi_and_network_with_notes_on_what_differs():
    settings, notes = settings_of(experiments.resolve("circles"), "mlp")
    assert settings == {"dataset": "circles", "points": 1000, "noise": 0.1, "seed": 0, "train_ratio": 0.75,
                        "features": ["x1", "x2"], "hidden": [16, 16], "activation": "relu", "lr": 0.01,
                        "batch_size": 1000, "regularization": "none"}
    assert "the page trains with SGD, the rung with adam" in notes


def test_ladder_run_seed_runs_that_one_seed(invoke, tmp_path):
    session = trained(3, **TWO_CLASSES)
    reply, _ = exported(session, tmp_path)
    assert reply["command"] == f"ladder run {reply['filename']} --seed 3"
    out = tmp_path / "out"
    result = invoke("run", tmp_path / reply["filename"], "--seed", "3", "--out", out, "--no-figures")
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    assert results["seeds"] == [3]
    net = net_of(results["experiments"][0])
    assert net["metrics"]["test_loss"]["values"] == [session.loss_test]


def test_seed_and_several_seeds_together_are_refused(invoke, tmp_path):
    one_clear_line(invoke("run", "circles", "--seed", "3", "--seeds", "2"), ["--seed 3 --seeds 2", "not both"])


def test_a_csv_set_up_exports_its_csv_beside_the_file_and_runs_to_the_same_numbers(tmp_path):
    rng = np.random.default_rng(1)
    points = rng.uniform(-3, 3, (160, 2))
    lines = ["width,height,kind"] + [f"{a:.4f},{b:.4f},{7 if a * b > 0 else 2}" for a, b in points]
    session = Session(features=["x1", "x2", "x1x2"], hidden=[3], seed=2)
    session.apply({"type": "csv", "text": "\n".join(lines)})
    for _ in range(4):
        session.step()
    reply = session.apply({"type": "export"})[0]
    (tmp_path / reply["csv"]["filename"]).write_text(reply["csv"]["text"], encoding="utf-8")
    (tmp_path / reply["filename"]).write_text(reply["toml"], encoding="utf-8")
    spec = experiments.load(tmp_path / reply["filename"])  # the CSV is found beside the file
    net = net_of(run_experiment(spec, [2]).record)
    assert net["metrics"]["test_loss"]["values"] == [session.loss_test]
    assert net["metrics"]["test_accuracy"]["values"] == [session.accuracy()["accuracy_test"]]


# -- as users run it: a real `ladder play --experiment` process and a WebSocket client ----------
def test_ladder_play_experiment_says_hello_with_the_rung_and_answers_export_and_its_mistakes():
    from test_play_process import Play, run, session, until

    server = Play("--no-browser", "--experiment", "circles:mlp")
    try:
        assert server.listening(), (server.first_line, server.process.stderr.read() if server.process.poll() else "")
        assert "the page opens circles:mlp" in server.process.stdout.readline()

        async def scenario():
            from websockets.asyncio.client import connect

            async with connect(server.url, max_size=None) as ws:
                hello = json.loads(await ws.recv())
                assert hello["experiment"]["name"] == "circles:mlp"
                assert hello["settings"]["hidden"] == [16, 16] and hello["settings"]["points"] == 1000
                await until(ws, "frame")
                await ws.send(json.dumps({"type": "export", "name": "mine"}))
                error = await until(ws, "error")
                assert error["message"] == 'export takes nothing but its type: send {"type": "export"}'
                await ws.send(json.dumps({"type": "step"}))
                await ws.send(json.dumps({"type": "export"}))  # the session went on
                return await until(ws, "export")
        reply = run(scenario())
    finally:
        server.stop()
    data = tomllib.loads(reply["toml"])
    assert reply["epoch"] == 1 and data["rungs"][0]["train"]["epochs"] == 1
    assert data["dataset"]["pattern"] == "circles" and data["rungs"][0]["model"]["hidden"] == [16, 16]
    assert experiments.validate(data).rungs[0].name == NET

