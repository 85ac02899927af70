"""Export and `--experiment` in Debian's chromium, driven by Playwright against a real uvicorn server."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest

from ladder import experiments
from test_play_browser import browser, serving  # noqa: F401 - fixtures shared with the playground's tests

@contextmanager
def tab(browser, url):
    """A tab under the page's own Content-Security-Policy (no bypass: the download must pass it)."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1300, "height": 900}, accept_downloads=True)
    context.set_default_timeout(0)  # no limit tuned to one machine: a busy CPU is only slower
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.goto(url)
    expect(page.get_by_test_id("loss-train")).not_to_have_text("–", timeout=0)
    try:
        yield page
    finally:
        context.close()


def test_export_downloads_the_set_up_and_shows_it_as_python(browser, tmp_path):
    from playwright.sync_api import expect

    from ladder.play.server import create_app

    with serving(create_app()) as url, tab(browser, url + "#dataset=blobs&classes=4&seed=5&hidden=6&lr=0.1") as page:
        expect(page.get_by_test_id("classes")).to_have_value("4", timeout=0)
        for _ in range(3):
            page.get_by_test_id("step").click()
        expect(page.get_by_test_id("epoch")).to_have_text("3", timeout=0)
        with page.expect_download(timeout=0) as download:
            page.get_by_test_id("export").click()
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        assert path.name == "play-blobs.toml"
        spec = experiments.load(path)  # ladder's own loader reads what the page downloaded
        net = next(r for r in spec.rungs if r.name == "net")
        assert (spec.dataset.name, spec.dataset.model_extra["pattern"], spec.dataset.model_extra["classes"],
                spec.dataset.model_extra["seed"]) == ("playground", "blobs", 4, 5)
        assert net.model.model_extra["hidden"] == [6] and net.train.epochs == 3 and net.train.lr == 0.1
        assert [r.name for r in spec.rungs] == ["net", "raw", "phi", "mlp"]
        # The file's header holds the page's numbers; the page shows them to three places.
        shown = page.get_by_test_id("loss-test").text_content()
        loss = float(re.search(r"test loss ([0-9.e-]+)", path.read_text()).group(1))
        assert f"{loss:.3f}" == shown
        expect(page.get_by_test_id("export-command")).to_have_text("ladder run play-blobs.toml --seed 5")
        python = page.get_by_test_id("export-python").input_value()
        assert "load('playground', pattern='blobs'" in python and "hidden=(6,)" in python
        assert "epochs=3" in python and "random_state=5" in python
        assert page.problems == []


def test_ladder_play_experiment_circles_mlp_opens_that_rung_on_the_page(browser):
    from playwright.sync_api import expect

    from ladder.cli.play import _opening
    from ladder.play.server import create_app

    with serving(create_app(opening=_opening("circles:mlp"))) as url, tab(browser, url) as page:
        expect(page.get_by_test_id("dataset")).to_have_value("circles", timeout=0)
        assert page.locator("#points").input_value() == "1000"
        assert page.locator("#train_ratio").input_value() == "0.75"
        assert page.locator("#layers .layer").all_text_contents() == ["+16−", "+16−"]
        assert page.locator("#activation").input_value() == "relu"
        assert page.locator("#lr").input_value() == "0.01"
        assert page.locator("#batch_size").input_value() == "1000"
        status = page.get_by_test_id("status").text_content()
        assert status.startswith("opened circles:mlp") and "SGD" in status
        assert page.problems == []
