"""The playground in Debian's chromium, driven by Playwright against a real uvicorn server."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def serving(app):
    """`app` served by uvicorn on a free local port in a thread, as `ladder play` serves it; its address."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the playground server did not start"
        threading.Event().wait(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join()


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    """A playground server on a free local port, with digit models trained briefly for the test."""
    from ladder.play.digit_service import DigitService
    from ladder.play.digits import train_and_cache
    from ladder.play.server import create_app

    models = tmp_path_factory.mktemp("digit-models")
    # A tenth of MNIST for one epoch: enough for a clear vertical stroke to read as 1.
    train_and_cache(models, n_train=6000, epochs=1)
    with serving(create_app(DigitService(models))) as address:
        yield address


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, url):
    """A fresh tab on the playground whose first frame has arrived; it records every request."""
    # bypass_csp lets Playwright evaluate its waits; the page's own script runs the same.
    context = browser.new_context(viewport={"width": 1300, "height": 900}, bypass_csp=True)
    context.set_default_timeout(0)  # no limit tuned to one machine: a busy CPU is only slower
    page = context.new_page()
    page.requests, page.problems = [], []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.goto(url)
    page.wait_for_function("document.querySelector('[data-testid=loss-train]').textContent !== '–'")
    yield page
    context.close()


def by(page, testid):
    return page.get_by_test_id(testid)


def epoch(page) -> int:
    return int(by(page, "epoch").text_content())


def steps(page, n: int) -> None:
    start = epoch(page)
    for _ in range(n):
        by(page, "step").click()
    page.wait_for_function(f"Number(document.querySelector('[data-testid=epoch]').textContent) === {start + n}")


def test_the_page_loads_and_nothing_leaves_the_machine(page, url):
    assert page.requests and all(r.startswith((url, "data:")) for r in page.requests), page.requests
    assert page.problems == []
    for testid in ["play", "pause", "step", "reset", "boundary", "feature-x1sq", "hidden-add", "hidden-remove",
                   "dataset", "csv-upload", "digit-canvas", "digit-clear", "pred-cnn", "status"]:
        assert by(page, testid).count() == 1, testid


def test_play_makes_the_epoch_rise_and_the_boundary_change(page):
    before = by(page, "boundary").evaluate("c => c.toDataURL()")
    by(page, "play").click()
    page.wait_for_function("Number(document.querySelector('[data-testid=epoch]').textContent) > 5")
    by(page, "pause").click()
    assert by(page, "boundary").evaluate("c => c.toDataURL()") != before


def test_squares_beat_the_raw_inputs_on_circles_without_a_hidden_layer(page):
    by(page, "dataset").select_option("circles")
    by(page, "hidden-remove").click()
    by(page, "hidden-remove").click()
    steps(page, 30)
    raw = float(by(page, "loss-test").text_content())
    for testid in ["feature-x1sq", "feature-x2sq", "feature-x1", "feature-x2"]:
        by(page, testid).click()
    page.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '0'")
    steps(page, 30)
    assert float(by(page, "loss-test").text_content()) < raw - 0.2


def test_the_link_reproduces_the_set_up(page):
    by(page, "dataset").select_option("spirals")
    by(page, "hidden-add").click()
    by(page, "feature-sinx1").click()
    other = page.context.new_page()  # the same context: bypass_csp, as for every page here
    other.goto(page.url)
    other.wait_for_function("document.querySelector('[data-testid=dataset]').value === 'spirals'")
    assert other.get_by_test_id("feature-sinx1").is_checked()
    assert other.locator("#layers .layer").count() == 3
    other.close()


def test_a_vertical_stroke_reads_as_a_one(page):
    page.get_by_role("button", name="Draw a digit").click()
    page.wait_for_function("document.querySelectorAll('#templates canvas').length === 10")
    by(page, "digit-canvas").scroll_into_view_if_needed()
    box = by(page, "digit-canvas").bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    page.mouse.move(x, box["y"] + box["height"] * 0.85, steps=12)
    page.mouse.up()
    page.wait_for_function("!digitBusy && !digitDirty && document.querySelector('[data-testid=pred-cnn]').textContent !== '–'")
    assert by(page, "pred-cnn").text_content().startswith("1")
    by(page, "digit-clear").click()
    assert by(page, "pred-cnn").text_content() == "–"


def test_an_uploaded_csv_trains(page, tmp_path):
    rng = np.random.default_rng(0)
    points = rng.uniform(-3, 3, (200, 2))
    lines = ["width,height,label"] + [f"{a:.3f},{b:.3f},{int(a > b)}" for a, b in points]
    path = tmp_path / "mine.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    by(page, "csv-upload").set_input_files(str(path))
    page.wait_for_function("document.querySelector('[data-testid=dataset]').value === 'csv'")
    start = float(by(page, "loss-train").text_content())
    steps(page, 5)
    assert float(by(page, "loss-train").text_content()) < start


def test_a_bad_csv_is_told_in_status(page, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b,label\n1,2,x\n3,4,y\n", encoding="utf-8")
    by(page, "csv-upload").set_input_files(str(path))
    page.wait_for_function("document.querySelector('[data-testid=status]').textContent.includes('not numeric')")


def test_a_learning_rate_of_10_on_spirals_shows_divergence(page):
    by(page, "dataset").select_option("spirals")
    page.locator("#lr").fill("10")
    page.locator("#lr").dispatch_event("change")
    by(page, "play").click()
    page.wait_for_function("document.querySelector('[data-testid=status]').textContent.includes('Diverged')")
    assert "lower learning rate" in by(page, "status").text_content()


@pytest.mark.parametrize("width, height", [(1280, 800), (1400, 900), (1920, 1080)])
def test_compare_leaves_the_heat_map_where_it_was_and_in_view(page, width, height):
    """On a laptop's or a desktop's screen the heat map is in view from the start, and the
    comparison's table appears below it without moving it (at 1,400 px it used to push the heat map
    to a row of its own, below the fold; at 1,280 px it started there)."""
    page.set_viewport_size({"width": width, "height": height})
    before = by(page, "boundary").bounding_box()
    assert before["y"] >= 0 and before["y"] + before["height"] <= height, before
    page.locator("#compare").click()
    page.wait_for_function("document.querySelector('#comparison table') !== null")
    assert by(page, "boundary").bounding_box() == before
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing sideways either


TOL_FIRST_FOUR = [[0xcc, 0x66, 0x77], [0x33, 0x22, 0x88], [0xdd, 0xcc, 0x77], [0x11, 0x77, 0x33]]


def test_four_blobs_show_four_colours_accuracy_per_class_and_a_confusion_matrix(page, url):
    other = page.context.new_page()  # opened from a link: the number of classes is in the URL
    other.goto(url + "#dataset=blobs&classes=4&hidden=8&points=400&train_ratio=0.5")
    other.wait_for_function("data && data.classes === 4 && lastFrame && lastFrame.confusion?.length === 4")
    assert other.get_by_test_id("classes").input_value() == "4"
    steps(other, 20)
    rows = other.locator("#confusion tr")
    assert rows.count() == 5  # a header and one row per true class
    matrix = [[int(td) for td in rows.nth(k).locator("td").all_text_contents()] for k in range(1, 5)]
    assert [sum(row) for row in matrix] == [50, 50, 50, 50]  # 200 test points, stratified
    assert all(matrix[k][k] >= 40 for k in range(4)), matrix
    per_class = other.get_by_test_id("class-accuracy").locator("li").all_text_contents()
    assert [text.split(":")[0] for text in per_class] == ["0", "1", "2", "3"]
    assert [text.split(": ")[1] for text in per_class] == [f"{round(100 * matrix[k][k] / 50)}%" for k in range(4)]
    assert float(other.get_by_test_id("accuracy-test").text_content().rstrip("%")) >= 90
    other.locator("#discretize").check()  # each cell in its class's colour, unblended
    colours = other.get_by_test_id("boundary").evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, seen = new Set();"
        " for (let i = 0; i < d.length; i += 4) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`); return [...seen]; }")
    assert sorted(colours) == sorted(",".join(map(str, c)) for c in TOL_FIRST_FOUR)
    assert "classes=4" in other.url
    other.close()


def test_a_classroom_link_built_in_the_editor_hides_and_locks_controls(page):
    page.locator("#classroom summary").click()
    by(page, "classroom-hide-dataset").check()
    by(page, "classroom-hide-features").check()
    by(page, "classroom-lock-activation").check()
    by(page, "classroom-lock-hidden").check()
    link = by(page, "classroom-link").input_value()
    assert "hide=dataset%2Cfeatures" in link and "lock=hidden%2Cactivation" in link
    assert not page.locator("#dataset").is_disabled() and by(page, "dataset").is_visible()  # the editor's own page is as it was

    learner = page.context.new_page()
    learner.goto(link)
    learner.wait_for_function("document.querySelector('[data-testid=loss-train]').textContent !== '–'")
    assert not learner.get_by_test_id("dataset").is_visible()
    assert not learner.get_by_test_id("feature-x1").is_visible()
    assert learner.locator("#activation").is_disabled() and learner.get_by_test_id("hidden-add").is_disabled()
    assert learner.locator("#layers button").first.is_disabled()
    assert not learner.get_by_test_id("classroom").is_visible()  # no editor on a learner's page
    learner.locator("#lr").fill("0.1")  # what is not hidden or locked still moves
    learner.locator("#lr").dispatch_event("change")
    assert "lr=0.1" in learner.url and "hide=dataset%2Cfeatures" in learner.url  # kept as the set-up changes
    learner.close()


def test_a_link_naming_no_such_control_says_which_controls_there_are(page, url):
    other = page.context.new_page()
    other.goto(url + "#hide=learning_rate")
    other.wait_for_function("document.querySelector('[data-testid=status]').textContent.includes('no control named learning_rate')")
    assert "lr" in other.get_by_test_id("status").text_content()
    other.close()
