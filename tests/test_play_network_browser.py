"""The network drawn (issue 35, point 5) in Debian's chromium: links whose width and colour are the
weights, a value told on hover, a weight set by hand while paused and the boundary redrawn."""

from __future__ import annotations

import pytest

from test_play_browser import browser, by, page, serving  # noqa: F401 - fixtures shared with the playground's tests

ORANGE, BLUE = "rgb(245,147,34)", "rgb(8,119,189)"


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    """A playground server on a free local port; no digit models (this page never asks for them)."""
    from ladder.play.digit_service import DigitService
    from ladder.play.server import create_app

    with serving(create_app(DigitService(cache=tmp_path_factory.mktemp("no-digit-models")))) as address:
        yield address


def links(page):
    return page.locator("#network-links line")


def link(page, layer: int, to: int, source: int):
    return page.locator(f'#network-links line[data-layer="{layer}"][data-to="{to}"][data-from="{source}"]')


def middle(page, locator) -> tuple[float, float]:
    """Where a real pointer goes to be on this link: the middle of the line, in view."""
    return tuple(locator.evaluate("l => { l.scrollIntoView({block: 'center', inline: 'center'});"
                                  " const r = l.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }"))


def shown_number(text: str) -> float:
    return float(text.rsplit(" ", 1)[1].replace("−", "-"))


def test_the_links_are_every_weight_width_its_size_and_colour_its_sign(page):
    # x1, x2 → 4 → 2 → 1: 2·4 + 4·2 + 2·1 links
    page.wait_for_function("document.querySelectorAll('#network-links line').length === 18")
    assert page.locator("#units .col").count() == 4  # inputs, two hidden layers, the output
    drawn = links(page).evaluate_all(
        "ls => ls.map(l => [+l.dataset.layer, +l.dataset.to, +l.dataset.from, +l.getAttribute('stroke-width'), l.getAttribute('stroke')])")
    weights = page.evaluate("lastFrame.weights")
    for layer, to, source, width, colour in drawn:
        w = weights[layer - 1][to][source]
        assert width == pytest.approx(0.5 + min(abs(w), 4) / 4 * 5.5, abs=0.006)
        assert colour == (ORANGE if w < 0 else BLUE)
    assert len({width for *_, width, _ in drawn}) > 10 and {c for *_, c in drawn} == {ORANGE, BLUE}

    by(page, "feature-x1sq").click()  # one more input, one more layer: the links follow
    by(page, "hidden-add").click()
    # x1, x2, x1² → 4 → 2 → 4 → 1
    page.wait_for_function("document.querySelectorAll('#network-links line').length === 3*4 + 4*2 + 2*4 + 4*1")
    assert page.locator("#units .col").count() == 5
    assert page.evaluate("lastFrame.weights.map(w => [w.length, w[0].length])") == [[4, 3], [2, 4], [4, 2], [1, 4]]


def test_pointing_at_a_link_or_a_unit_tells_its_weight_or_bias(page):
    page.wait_for_function("document.querySelectorAll('#network-links line').length === 18")
    page.mouse.move(*middle(page, link(page, 1, 0, 0)))
    tip = by(page, "network-tip")
    assert tip.is_visible()
    assert tip.text_content().startswith("x1 → h1.1: weight ")
    assert shown_number(tip.text_content()) == page.evaluate("lastFrame.weights[0][0][0]")
    assert link(page, 1, 0, 0).evaluate("l => l.classList.contains('on')")

    page.locator("#units .col").nth(2).locator("canvas").nth(1).hover()  # the second layer's second unit
    assert tip.text_content().startswith("h2.2: bias ")
    assert shown_number(tip.text_content()) == page.evaluate("lastFrame.biases[1][1]")
    page.locator("#units .col").nth(0).locator("canvas").first.hover()
    assert tip.text_content() == "x1: an input (no bias)"
    page.locator("#units .col").nth(3).locator("canvas").first.hover()
    assert tip.text_content().startswith("output: bias ")


def test_paused_a_click_on_a_link_sets_its_weight_and_the_boundary_is_redrawn(page):
    page.wait_for_function("document.querySelectorAll('#network-links line').length === 18")
    by(page, "play").click()
    page.wait_for_function("lastFrame.playing && lastFrame.epoch >= 2")
    page.mouse.click(*middle(page, link(page, 1, 0, 0)))
    page.wait_for_function("document.querySelector('[data-testid=status]').textContent.includes('pause training first')")
    assert not by(page, "network-edit").is_visible()

    by(page, "pause").click()
    page.wait_for_function("!lastFrame.playing")
    epoch, boundary = page.evaluate("lastFrame.epoch"), by(page, "boundary").evaluate("c => c.toDataURL()")
    page.mouse.click(*middle(page, link(page, 1, 0, 0)))
    assert by(page, "network-edit").is_visible()
    assert float(by(page, "network-value").input_value()) == page.evaluate("lastFrame.weights[0][0][0]")
    by(page, "network-value").fill("3.5")
    by(page, "network-value").press("Enter")
    page.wait_for_function("lastFrame.weights[0][0][0] === 3.5")
    assert not by(page, "network-edit").is_visible()
    assert page.evaluate("lastFrame.epoch") == epoch  # set by hand: no training in between
    assert by(page, "boundary").evaluate("c => c.toDataURL()") != boundary
    assert link(page, 1, 0, 0).get_attribute("stroke-width") == "5.31"  # 0.5 + 3.5/4·5.5
    page.mouse.move(*middle(page, link(page, 1, 0, 0)))
    assert by(page, "network-tip").text_content() == "x1 → h1.1: weight 3.5"

    page.locator("#units .col").nth(3).locator("canvas").first.click()  # the output's bias
    by(page, "network-value").fill("-2")
    by(page, "network-set").click()
    page.wait_for_function("lastFrame.biases[2][0] === -2")

    page.mouse.click(*middle(page, link(page, 1, 0, 0)))  # a value past the limit: one line, nothing changed
    by(page, "network-value").fill("500")
    by(page, "network-value").press("Enter")
    page.wait_for_function("document.querySelector('[data-testid=status]').textContent.includes('between -100 and 100')")
    assert page.evaluate("lastFrame.weights[0][0][0]") == 3.5
    by(page, "step").click()  # and the session trains on from the hand-set network
    page.wait_for_function(f"lastFrame.epoch === {epoch + 1}")
    assert page.problems == []


def test_a_classroom_link_hides_or_locks_the_drawn_network(browser, url):
    context = browser.new_context(viewport={"width": 1300, "height": 900}, bypass_csp=True)
    context.set_default_timeout(0)
    page = context.new_page()
    page.goto(url + "#lock=network")
    page.wait_for_function("document.querySelectorAll('#network-links line').length === 18")
    page.mouse.click(*middle(page, link(page, 1, 0, 0)))  # paused: editable, were it not locked
    page.wait_for_function("document.querySelector('[data-testid=status]').textContent.includes('locks the network')")
    assert not by(page, "network-edit").is_visible()

    page.goto(url + "#hide=network")
    page.reload()
    page.wait_for_function("document.querySelector('[data-testid=loss-train]').textContent !== '–'")
    assert not by(page, "network").is_visible()
    assert page.evaluate("CONTROLS.includes('network')")
    context.close()
