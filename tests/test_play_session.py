"""The playground's session logic, without a server or a browser."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ladder.play.session import BOUNDARY, THUMB, PlayError, Session, phi
from ladder.play.settings import Limits


def trained(epochs: int, **settings) -> Session:
    session = Session(**settings)
    for _ in range(epochs):
        session.step()
    return session


def test_squared_features_let_a_network_without_hidden_layers_separate_circles():
    raw = trained(30, dataset="circles", hidden=[], features=["x1", "x2"])
    squares = trained(30, dataset="circles", hidden=[], features=["x1sq", "x2sq"])
    assert squares.loss_test < raw.loss_test - 0.2
    assert raw.loss_test > 0.6  # a line is no better than guessing on two rings


def test_each_step_is_one_epoch_and_training_lowers_the_loss():
    session = Session(dataset="gauss")
    start = session.loss_train
    for _ in range(5):
        session.step()
    assert session.epoch == 5
    assert session.loss_train < start


def test_a_frame_is_plain_numbers_and_uint8_grids():
    session = trained(2, hidden=[3, 2], features=["x1", "x2", "x1x2"])
    frame = session.frame()
    assert frame["type"] == "frame" and frame["epoch"] == 2
    assert isinstance(frame["loss_train"], float) and isinstance(frame["loss_test"], float)
    assert frame["boundary"].shape == (BOUNDARY, BOUNDARY) and frame["boundary"].dtype == np.uint8
    assert [u["name"] for u in frame["units"]] == ["x1", "x2", "x1x2", "h1.1", "h1.2", "h1.3", "h2.1", "h2.2"]
    assert all(u["grid"].shape == (THUMB, THUMB) and u["grid"].dtype == np.uint8 for u in frame["units"])


def test_the_boundary_changes_as_the_network_learns():
    session = Session(dataset="circles", hidden=[4])
    before = session.frame()["boundary"]
    for _ in range(3):
        session.step()
    assert not np.array_equal(before, session.frame()["boundary"])


def test_phi_computes_the_course_features():
    X = np.array([[2.0, 3.0]])
    np.testing.assert_allclose(phi(X, ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"])[0],
                               [2, 3, 4, 9, 6, np.sin(2), np.sin(3)], rtol=1e-6)


def test_a_learning_rate_of_10_on_spirals_diverges_and_stops_training():
    session = Session(dataset="spirals", lr=10)
    session.apply({"type": "play"})
    for _ in range(50):
        session.step()
        if session.diverged:
            break
    assert session.diverged and f"epoch {session.epoch}" in session.diverged
    assert "lower learning rate" in session.diverged and not session.playing
    epoch = session.epoch
    session.step()
    assert session.epoch == epoch  # stopped for good until something changes
    session.apply({"type": "set", "settings": {"lr": 0.03}})
    assert session.diverged is None


def test_data_settings_make_new_data_and_network_settings_a_new_network():
    session = trained(3)
    assert session.apply({"type": "set", "settings": {"lr": 0.1}}) == [] and session.epoch == 3
    session.apply({"type": "set", "settings": {"hidden": [2]}})
    assert session.epoch == 0
    replies = session.apply({"type": "set", "settings": {"points": 100, "train_ratio": 0.75}})
    assert replies[0]["type"] == "data" and len(replies[0]["train"]) == 75 and len(replies[0]["test"]) == 25


@pytest.mark.parametrize("message, words", [
    ({"type": "set", "settings": {"nope": 1}}, "unknown setting 'nope'"),
    ({"type": "set", "settings": {"lr": "fast"}}, "lr must be a number"),
    ({"type": "set", "settings": {"points": 10**9}}, "points must be between"),
    ({"type": "set", "settings": {"hidden": [4] * 7}}, "at most 6 layer"),
    ({"type": "set", "settings": {"hidden": [65]}}, "between 1 and 64"),
    ({"type": "set", "settings": {"features": []}}, "non-empty list"),
    ({"type": "set", "settings": {"dataset": "csv"}}, "upload a CSV file first"),
    ({"type": "set", "settings": ["lr"]}, "settings must be an object"),
    ({"type": "launch"}, "unknown message type 'launch'"),
    ("not an object", "unknown message type None"),
])
def test_a_bad_message_gets_one_clear_line_and_leaves_the_session_as_it_was(message, words):
    session = trained(2)
    with pytest.raises(PlayError, match=words):
        session.apply(message)
    assert session.epoch == 2 and session.settings["hidden"] == [4, 2]


def test_l1_drives_weights_to_zero_harder_than_no_penalty():
    def weights(**settings):
        session = trained(20, dataset="gauss", hidden=[8], **settings)
        return sum(p.abs().sum().item() for p in session.net.parameters() if p.dim() > 1)
    assert weights(regularization="l1", reg_rate=0.03) < 0.8 * weights()


CSV = "a,b,label\n" + "\n".join(f"{x},{y},{int(x * x + y * y < 1)}"
                                 for x, y in np.random.default_rng(0).uniform(-2, 2, (200, 2)))


def test_an_uploaded_csv_trains():
    session = Session()
    replies = session.apply({"type": "csv", "text": CSV})
    assert replies[0]["type"] == "data" and replies[0]["task"] == "classification"
    assert session.settings["dataset"] == "csv"
    start = session.loss_train
    for _ in range(5):
        session.step()
    assert session.epoch == 5 and session.loss_train < start


def test_a_csv_with_a_numeric_target_is_a_regression():
    text = "x,y,z\n" + "\n".join(f"{i},{i % 7},{i * 0.37}" for i in range(50))
    assert Session().apply({"type": "csv", "text": text})[0]["task"] == "regression"


@pytest.mark.parametrize("text, words", [
    ("a,b,label\n1,2,0\nx,3,1\n", "not numeric"),
    ("a,b,label\n1,2,0\nnan,3,1\n", "NaN"),
    ("a,b,label\n1,2,0\n3,3,0\n5,1,0\n", "1 class"),
    ("a,b\n1,2\n3,4\n", "two feature columns and a label column"),
    ("a,b,label\n", "no data rows"),
    ("a,b,label\n" + "1,2,0\n" * 3000, "too large"),
])
def test_a_bad_csv_says_what_is_wrong(text, words):
    session = Session(limits=Limits(max_points=2000, max_csv_bytes=20_000))
    with pytest.raises(PlayError, match=words):
        session.apply({"type": "csv", "text": text})
    assert session.settings["dataset"] == "circles"


def test_the_comparison_checks_the_course_claim_on_circles():
    reply = Session(dataset="circles", features=["x1sq", "x2sq"]).apply({"type": "compare"})[0]
    scores = {row["model"]: row["score"] for row in reply["rows"]}
    assert scores["raw"] < 0.65 and scores["phi"] > 0.9 and scores["mlp"] > 0.9
    assert all(claim["holds"] for claim in reply["claims"])


def test_an_epoch_in_pieces_takes_the_same_steps_as_a_whole_one():
    """How the server cuts epochs into frames depends on timing; the training must not."""
    whole, pieces = (Session(dataset="spirals", hidden=[8], batch_size=7) for _ in range(2))
    for _ in range(3):
        whole.step()
    sizes = iter([1, 5, 2, 30, 3, 1, 8] * 10)
    while pieces.epoch < 3:
        pieces.advance(next(sizes))
    for a, b in zip(whole.net.state_dict().values(), pieces.net.state_dict().values()):
        assert torch.equal(a, b)
    assert (whole.loss_train, whole.loss_test) == (pieces.loss_train, pieces.loss_test)


def test_a_frame_part_way_through_an_epoch_says_how_far_it_is():
    session = Session(points=400, train_ratio=0.5, batch_size=10)  # 200 points: 20 batches an epoch
    session.advance(5)
    frame = session.frame()
    assert (frame["epoch"], frame["progress"]) == (0, 0.25)
    session.advance(100)  # never past the end of the epoch
    frame = session.frame()
    assert (frame["epoch"], frame["progress"]) == (1, 0.0)


def test_settings_changed_mid_epoch_act_from_the_next_epoch_wherever_the_epoch_was_cut():
    sessions = [Session(dataset="circles", hidden=[4]) for _ in range(2)]
    for session, cut in zip(sessions, (3, 11)):
        session.step()
        session.advance(cut)
        session.apply({"type": "set", "settings": {"batch_size": 25, "lr": 0.1}})
        session.step()  # the rest of epoch 2, as it began: batches of 10 at lr 0.03
        session.step()  # epoch 3: batches of 25 at lr 0.1
    first, second = (s.net.state_dict() for s in sessions)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert sessions[0].epoch == 3 and sessions[0].batches_per_epoch == 8


def test_a_loss_that_turns_infinite_mid_epoch_stops_training_there():
    session = Session(dataset="sine", lr=100, hidden=[8, 8], activation="relu")  # 20 batches an epoch
    pieces = 0
    while not session.diverged:
        session.advance(1)
        pieces += 1
    assert pieces < session.batches_per_epoch  # not trained on NaN to the epoch's end
    assert session.epoch == 1 and "infinite or NaN" in session.diverged and "now 100" in session.diverged
    frame = session.frame()
    session.advance(1)
    assert session.frame()["epoch"] == frame["epoch"] and not session.playing


# -- k classes ----------------------------------------------------------------------------------

def test_four_blobs_train_with_one_logit_per_class_and_cross_entropy():
    session = Session(dataset="blobs", classes=4, hidden=[8])
    assert session.loss == "cross_entropy" and session.net(session.X_test[:1]).shape == (1, 4)
    assert abs(session.loss_train - np.log(4)) < 0.3  # an untrained softmax over 4 is near a guess
    for _ in range(20):
        session.step()
    frame = session.frame()
    assert session.loss_train < 0.5 and frame["accuracy_test"] >= 0.9
    assert frame["predicted"].shape == (BOUNDARY, BOUNDARY) and frame["predicted"].dtype == np.uint8
    assert set(np.unique(frame["predicted"])) == {0, 1, 2, 3}  # each class owns part of the plane
    assert frame["boundary"].min() >= 255 // 4  # the likeliest class is at least 1/4 likely


def test_two_classes_keep_one_logit_and_bce():
    session = Session(dataset="blobs", classes=2)
    assert session.loss == "bce" and session.net(session.X_test[:1]).shape == (1, 1)
    frame = session.frame()
    assert "predicted" not in frame and np.array(frame["confusion"]).shape == (2, 2)


def test_the_confusion_matrix_counts_the_test_points_by_true_and_predicted_class():
    session = trained(3, dataset="blobs", classes=3, hidden=[], points=300, train_ratio=0.5)
    logits = session.net(session.X_test).detach()
    predicted, true = logits.argmax(1).numpy(), session.data.y_test
    frame = session.frame()
    expected = [[int(((true == t) & (predicted == p)).sum()) for p in range(3)] for t in range(3)]
    assert frame["confusion"] == expected and sum(map(sum, expected)) == 150
    assert frame["class_accuracy"] == [expected[k][k] / 50 for k in range(3)]  # stratified: 50 a class
    # A network that always says class 0: every test point lands in column 0.
    with torch.no_grad():
        session.net.layers[-1].weight.zero_()
        session.net.layers[-1].bias.copy_(torch.tensor([1.0, 0.0, 0.0]))
    session._measure()
    frame = session.frame()
    assert frame["confusion"] == [[50, 0, 0], [50, 0, 0], [50, 0, 0]]
    assert frame["class_accuracy"] == [1.0, 0.0, 0.0] and frame["accuracy_test"] == pytest.approx(1 / 3)
    assert set(np.unique(frame["predicted"])) == {0}


def test_a_regression_has_no_classes():
    session = Session(dataset="sine")
    frame = session.frame()
    assert (frame["confusion"], frame["class_accuracy"], frame["accuracy_test"]) == (None, None, None)
    assert session.points()["classes"] is None


def test_the_same_seed_gives_the_same_confusion_matrix():
    a, b = (trained(4, dataset="blobs", classes=5, seed=7) for _ in range(2))
    assert a.frame()["confusion"] == b.frame()["confusion"] and a.loss_test == b.loss_test


def test_a_csv_with_four_labels_is_four_classes_named_by_their_values():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (240, 2))
    label = np.array([1, 2, 5, 7])[(X[:, 0] > 0) * 2 + (X[:, 1] > 0)]
    text = "a,b,kind\n" + "\n".join(f"{x:.3f},{y:.3f},{k}" for (x, y), k in zip(X, label))
    session = Session()
    data = session.apply({"type": "csv", "text": text})[0]
    assert data["classes"] == 4 and data["labels"] == ["1", "2", "5", "7"]
    assert {row[2] for row in data["train"]} == {0, 1, 2, 3}
    for _ in range(30):
        session.step()
    assert session.frame()["accuracy_test"] >= 0.9


@pytest.mark.parametrize("value", [1, 11, 2.5, "4", True])
def test_a_bad_number_of_classes_is_refused_in_one_line(value):
    session = Session(dataset="blobs", classes=4)
    with pytest.raises(PlayError, match="classes must be"):
        session.apply({"type": "set", "settings": {"classes": value}})
    assert session.settings["classes"] == 4 and session.classes == 4


def test_changing_the_number_of_classes_makes_new_blobs():
    session = Session(dataset="blobs", classes=3)
    data = session.apply({"type": "set", "settings": {"classes": 6}})[0]
    assert data["classes"] == 6 and {row[2] for row in data["train"] + data["test"]} == set(range(6))
    assert session.net(session.X_test[:1]).shape == (1, 6)


def test_the_comparison_separates_blobs_with_lines():
    reply = Session(dataset="blobs", classes=5).apply({"type": "compare"})[0]
    scores = {row["model"]: row["score"] for row in reply["rows"]}
    assert scores["raw"] >= 0.9 and reply["claims"][0]["holds"]


# -- reset to the same weights (issue 35 point 3) ------------------------------------------------
def losses(session: Session, epochs: int) -> list[tuple[float, float]]:
    """The losses at epoch 0 and after each of `epochs` more."""
    seen = [(session.loss_train, session.loss_test)]
    for _ in range(epochs):
        session.step()
        seen.append((session.loss_train, session.loss_test))
    return seen


def weights(session: Session) -> dict:
    return {k: v.clone() for k, v in session.net.state_dict().items()}


def test_two_runs_reset_to_the_same_weights_with_the_same_settings_match_epoch_by_epoch():
    session = Session(dataset="spirals", hidden=[8, 8], batch_size=7)
    first = losses(session, 6)
    replies = session.apply({"type": "reset", "same_weights": True})
    assert [r["type"] for r in replies] == ["reset"] and replies[0]["same_weights"] is True
    assert session.epoch == 0 and not session.playing
    assert losses(session, 6) == first
    assert first[-1][0] < first[0][0] - 0.05  # it trained: the match is no pair of untouched networks


def test_a_different_learning_rate_starts_from_the_identical_epoch_0_loss():
    session = Session(dataset="spirals", hidden=[8, 8])
    slow = losses(session, 4)
    session.apply({"type": "set", "settings": {"lr": 0.3}})
    session.apply({"type": "reset", "same_weights": True})
    fast = losses(session, 4)
    assert fast[0] == slow[0]
    assert fast[1] != slow[1] and fast[-1][0] < slow[-1][0]


def test_the_same_weights_survive_new_data_where_a_plain_reset_draws_them_from_the_new_seed():
    session = Session(dataset="circles", hidden=[4, 2], seed=0)
    started = weights(session)
    session.step()
    session.apply({"type": "set", "settings": {"seed": 1, "activation": "relu"}})  # new data, new network
    fresh = weights(session)
    assert not torch.equal(fresh["layers.0.weight"], started["layers.0.weight"])
    session.apply({"type": "reset", "same_weights": True})
    assert all(torch.equal(v, started[k]) for k, v in session.net.state_dict().items())
    assert (session.settings["seed"], session.settings["activation"]) == (1, "relu")
    session.apply({"type": "reset"})
    assert all(torch.equal(v, fresh[k]) for k, v in session.net.state_dict().items())


@pytest.mark.parametrize("change, words", [
    ({"hidden": [8, 2]}, "x1, x2 → 4, 2 → 1, now x1, x2 → 8, 2 → 1"),
    ({"features": ["x1sq", "x2sq"]}, "x1, x2 → 4, 2 → 1, now x1sq, x2sq → 4, 2 → 1"),
    ({"dataset": "blobs", "classes": 3}, "now x1, x2 → 4, 2 → 3"),
])
def test_weights_that_no_longer_fit_are_told_in_one_line_and_a_fresh_network_starts(change, words):
    session = trained(3, dataset="circles")
    session.apply({"type": "set", "settings": change})
    fresh = weights(session)
    [reply] = session.apply({"type": "reset", "same_weights": True})
    assert reply["same_weights"] is False and words in reply["message"] and "fresh network" in reply["message"]
    assert "\n" not in reply["message"]
    assert session.epoch == 0 and all(torch.equal(v, fresh[k]) for k, v in session.net.state_dict().items())


def test_before_any_training_there_is_no_last_run_to_go_back_to():
    session = Session()
    [reply] = session.apply({"type": "reset", "same_weights": True})
    assert reply["same_weights"] is False and "no run has started yet" in reply["message"]


@pytest.mark.parametrize("value", ["yes", 1, None, [True]])
def test_same_weights_must_be_true_or_false(value):
    session = trained(2)
    with pytest.raises(PlayError, match=r"reset: same_weights must be true or false"):
        session.apply({"type": "reset", "same_weights": value})
    assert session.epoch == 2
