"""Runs side by side (issue 35 point 3) in Debian's chromium, against `ladder play` as a user starts it:
pin a run, reset to the same weights with another learning rate, pin again, compare."""

from __future__ import annotations

import re

import pytest

from test_play_browser import browser, by, page, steps  # noqa: F401 - fixtures shared with the playground's tests
from test_play_process import Play


@pytest.fixture(scope="module")
def url():
    server = Play("--no-browser")
    assert server.listening(), (server.first_line, server.process.stderr.read() if server.process.poll() else "")
    yield f"http://127.0.0.1:{server.port}/"
    server.stop()


def numbers(page, i: int) -> dict:
    """A pin's numbers as the page writes them: test accuracy, epoch, seconds, test loss from → to."""
    text = by(page, f"pin-numbers-{i}").text_content()
    found = re.fullmatch(r"test accuracy ([\d.]+)% · epoch (\d+) · ([\d.]+) s · test loss ([\d.]+) → ([\d.]+)", text)
    assert found, text
    accuracy, epoch, seconds, start, end = found.groups()
    return {"accuracy": float(accuracy), "epoch": int(epoch), "seconds": float(seconds), "start": start, "end": end}


def set_lr(page, value: str) -> None:
    page.locator("#lr").fill(value)
    page.locator("#lr").dispatch_event("change")


def test_two_runs_from_the_same_weights_are_pinned_side_by_side_with_their_curves(page):
    assert by(page, "pin").count() == 1 and by(page, "reset-same").count() == 1
    steps(page, 8)
    by(page, "pin").click()
    set_lr(page, "0.3")
    by(page, "reset-same").click()
    page.wait_for_function("document.querySelector('[data-testid=status]').textContent.includes('started from')"
                           " && document.querySelector('[data-testid=epoch]').textContent === '0'")
    steps(page, 8)
    by(page, "pin").click()

    assert by(page, "pins").locator("figure").count() == 2
    slow, fast = numbers(page, 0), numbers(page, 1)
    assert slow["epoch"] == fast["epoch"] == 8 and slow["seconds"] > 0 and fast["seconds"] > 0
    assert slow["start"] == fast["start"]  # the same weights: the same test loss before training
    assert fast["end"] != slow["end"]
    assert [by(page, f"pin-{i}").locator("figcaption").text_content() for i in (0, 1)] == ["lr 0.03", "lr 0.3"]
    for i in (0, 1):  # each thumbnail is the boundary it ended with, not a blank canvas
        assert by(page, f"pin-{i}").locator("canvas").evaluate(
            "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0)")

    curve = by(page, "curve")
    assert curve.get_attribute("data-underlays") == "2"
    with_pins = curve.evaluate("c => c.toDataURL()")
    by(page, "pin-remove-0").click()
    assert by(page, "pins").locator("figure").count() == 1 and curve.get_attribute("data-underlays") == "1"
    assert curve.evaluate("c => c.toDataURL()") != with_pins
    assert by(page, "pin-0").locator("figcaption").text_content() == "lr 0.3, 4-2 tanh"  # alone: its main settings


def test_the_link_carries_the_pinned_settings_to_redo_and_a_click_brings_them_back(page):
    steps(page, 1)
    by(page, "pin").click()
    set_lr(page, "0.1")
    by(page, "hidden-add").click()
    assert "pin=lr%3A0.03%3Bhidden%3A4%2C2" in page.url  # the pin: where it differs from the page's set-up

    other = page.context.new_page()
    other.goto(page.url)
    other.wait_for_function("document.querySelectorAll('[data-testid=pins] figure').length === 1")
    assert "not run here yet" in other.get_by_test_id("pin-numbers-0").text_content()
    other.get_by_test_id("pin-0").locator("canvas").click()
    other.wait_for_function("document.querySelector('#lr').value === '0.03' && document.querySelectorAll('#layers .layer').length === 2")
    steps(other, 2)
    other.get_by_test_id("pin").click()  # the run the link asked for fills its pin
    assert other.get_by_test_id("pins").locator("figure").count() == 1
    assert numbers(other, 0)["epoch"] == 2
    other.close()


def test_a_fifth_pin_replaces_the_oldest_and_weights_that_no_longer_fit_are_told(page):
    by(page, "pin").click()
    assert "nothing to pin yet" in by(page, "status").text_content()
    steps(page, 1)
    for _ in range(5):
        by(page, "pin").click()
    assert by(page, "pins").locator("figure").count() == 4
    assert "4 pins at most: the oldest" in by(page, "status").text_content()
    by(page, "hidden-add").click()
    by(page, "reset-same").click()
    page.wait_for_function("document.querySelector('[data-testid=status]').textContent.includes('do not fit')")
    assert "x1, x2 → 4, 2 → 1, now x1, x2 → 4, 2, 4 → 1" in by(page, "status").text_content()
