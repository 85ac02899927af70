"""The HTML report is one self-contained file: every part, claim and figure, nothing from the
network, readable in a real browser on a laptop and on a phone."""

from __future__ import annotations

import base64
import copy
import json
import re
from html import escape as html_escape
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from ladder.errors import LadderError  # noqa: E402
from ladder.report import render, write_report  # noqa: E402
from ladder.results import write_results  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _summary(values):
    finite = [v for v in values if v is not None]
    if len(finite) < len(values):
        return {"mean": None, "std": None, "values": values}
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    return {"mean": mean, "std": std, "values": values}


def _rung(name, backend, model, n_params, metrics, features=None):
    rung = {"name": name, "backend": backend, "model": model, "n_features": 2 if features is None else 5,
            "n_params": n_params, "metrics": {k: _summary(v) for k, v in metrics.items()},
            "fit_seconds": _summary([0.012, 0.011, 0.013])}
    if features is not None:
        rung["features"] = features
    return rung


def make_results() -> dict:
    """Two parts (classification on a stand-in dataset, regression scored on its training points),
    three seeds, one diverged rung, one failing claim, figures per part and one for the whole run."""
    circles = {
        "name": "circles", "title": "Part 1, classification: two circles", "task": "classification",
        "story": "One ring of points inside another.\nA straight line cannot separate them.\n\n"
                 "An MLP learns a bent boundary. <script>alert('x')</script> & friends",
        "dataset": {"name": "digits", "n_train": 750, "n_test": 250, "n_features": 2, "noise": 0.1,
                    "seed": 0, "fallback_for": "mnist"},
        "rungs": [
            _rung("logreg", "sklearn", {"kind": "logistic", "backend": "sklearn"}, 3,
                  {"train_accuracy": [0.52, 0.52, 0.52], "test_accuracy": [0.5, 0.5, 0.5]}),
            _rung("logreg+poly2", "sklearn", {"kind": "logistic", "backend": "sklearn"}, 6,
                  {"train_accuracy": [1.0, 1.0, 1.0], "test_accuracy": [0.996, 0.996, 0.996]},
                  features={"kind": "polynomial", "degree": 2}),
            _rung("mlp", "torch", {"kind": "mlp", "hidden": [16, 16], "activation": "relu"}, 337,
                  {"train_accuracy": [0.99, 0.98, 1.0], "test_accuracy": [0.98, 0.97, 0.99],
                   "final_loss": [0.03, 0.04, 0.02]}),
        ],
        "claims": [
            {"text": "A straight line cannot separate two circles", "check": "logreg.test_accuracy < 0.65",
             "holds": True, "value": 0.5},
            {"text": "Squared features let the same linear model separate them",
             "check": "logreg+poly2.test_accuracy >= 0.95", "holds": True, "value": 0.996},
            {"text": "An MLP learns the curved boundary", "check": "mlp.test_accuracy >= 0.995",
             "holds": False, "value": 0.98},
        ],
        "figures": [{"file": "figures/circles_boundaries.png", "title": "Decision boundaries",
                     "caption": "Each rung's boundary over the test points."}],
    }
    sine = {
        "name": "sine", "title": "Part 2, regression: a sine wave", "task": "regression",
        "story": "A line cannot follow a sine wave.",
        "dataset": {"name": "sine", "n_train": 40, "n_test": 40, "n_features": 1, "test_is_train": True},
        "rungs": [
            _rung("line", "sklearn", {"kind": "linear", "backend": "sklearn"}, 2,
                  {"train_r2": [0.6, 0.6, 0.6], "test_r2": [0.6, 0.6, 0.6], "test_mse": [0.2, 0.2, 0.2]}),
            _rung("mlp-sgd", "torch", {"kind": "mlp", "hidden": [32], "activation": "tanh"}, 97,
                  {"train_r2": [None, 0.9, 0.9], "test_r2": [None, 0.9, 0.9], "test_mse": [None, 0.01, 0.01],
                   "final_loss": [None, 0.01, 0.01]}),
        ],
        "claims": [{"text": "A line cannot follow a sine wave", "check": "line.test_r2 < 0.8",
                    "holds": True, "value": 0.6}],
        "figures": [{"file": "figures/sine_fits.png", "title": "Fits", "caption": ""}],
    }
    return {"schema": 1, "ladder_version": "0.1.0", "device": "cpu", "seeds": [0, 1, 2],
            "date": "2025-05-01T14:03:27+00:00", "total_seconds": 192.4,
            "figures": [{"file": "figures/full_picture.png", "title": "The full picture",
                         "caption": "Best test score of every rung, all parts."}],
            "experiments": [circles, sine]}


def part_5() -> dict:
    """Part 5 as `ladder run mnist-shift` records it (numbers of one run): six rungs, nine
    moved-digit columns besides the scores, the widest table of the course."""
    probes = {"shift": [0, 1, 2, 3, 4], "rotate": [0.0, 10.0, 20.0, 30.0], "n_test": 2000}
    scores = {"linear": [0.936, 0.926, 0.905, 0.855, 0.643, 0.433, 0.277, 0.905, 0.857, 0.713, 0.505],
              "mlp": [0.986, 0.976, 0.969, 0.939, 0.75, 0.517, 0.344, 0.969, 0.946, 0.864, 0.692],
              "cnn": [0.994, 0.991, 0.988, 0.983, 0.973, 0.921, 0.763, 0.988, 0.979, 0.95, 0.852],
              "linear+aug": [0.813, 0.829, 0.78, 0.778, 0.76, 0.673, 0.459, 0.78, 0.739, 0.64, 0.475],
              "mlp+aug": [0.967, 0.968, 0.957, 0.958, 0.956, 0.943, 0.879, 0.957, 0.96, 0.925, 0.83],
              "cnn+aug": [0.99, 0.989, 0.986, 0.985, 0.985, 0.984, 0.971, 0.986, 0.984, 0.972, 0.935]}
    models = {"linear": ({"kind": "logistic", "backend": "torch"}, 7850),
              "mlp": ({"kind": "mlp", "hidden": [128], "activation": "relu"}, 101770),
              "cnn": ({"kind": "cnn"}, 206922)}
    keys = (["train_accuracy", "test_accuracy"] + [f"shift_{s}_accuracy" for s in probes["shift"]]
            + [f"rotate_{r:g}_accuracy" for r in probes["rotate"]])
    rungs = []
    for name, values in scores.items():
        model, n_params = models[name.split("+")[0]]
        rung = _rung(name, "torch", model, n_params,
                     {key: [v] for key, v in zip(keys, values)} | {"final_loss": [0.237]})
        rung.update(n_features=784, fit_seconds=_summary([247.88]))
        if name.endswith("+aug"):
            rung["augmented"] = {"shift": 3.0, "rotate": 20.0}
        rungs.append(rung)
    return {"name": "mnist-shift", "title": "Part 5, what a CNN's bias buys: shifted and rotated digits",
            "task": "classification", "story": "Move the test digits a few pixels, or turn them.",
            "dataset": {"name": "mnist", "n_train": 60000, "n_test": 10000, "n_features": 784},
            "probes": probes, "rungs": rungs,
            "claims": [{"text": "Shifts break templates", "check": "linear.shift_3_accuracy < 0.6",
                        "holds": True, "value": 0.433, "left": 0.433, "right": 0.6, "margin": 0.167}],
            "figures": []}


def all_figures(results: dict) -> list[dict]:
    return results["figures"] + [f for e in results["experiments"] for f in e["figures"]]


@pytest.fixture
def run_dir(tmp_path) -> tuple[Path, dict]:
    """A run folder as `ladder run --out` leaves it: results.json and small PNG figures."""
    results = make_results()
    (tmp_path / "figures").mkdir()
    for i, figure in enumerate(all_figures(results)):
        fig, ax = plt.subplots(figsize=(4, 2.5), dpi=60)
        ax.plot([0, 1, 2], [0, i + 1, 0])
        ax.set_title(figure["title"])
        fig.savefig(tmp_path / figure["file"])
        plt.close(fig)
    write_results(tmp_path, results)
    return tmp_path, results


# -- the page holds every part, claim and figure ------------------------------------------------
def test_every_part_and_claim_is_in_the_report(run_dir):
    out, results = run_dir
    html = write_report(out).read_text(encoding="utf-8")
    for experiment in results["experiments"]:
        assert f'<section id="exp-{experiment["name"]}" class="experiment">' in html
        assert f'href="#exp-{experiment["name"]}"' in html  # the table of contents links to it
        assert experiment["title"] in html
        for claim in experiment["claims"]:
            assert html_escape(claim["check"], quote=False) in html
    n_claims = sum(len(e["claims"]) for e in results["experiments"])
    assert len(re.findall(r'<li class="claim (?:holds|fails)">', html)) == n_claims
    assert html.index("One ring of points") < html.index("<table")  # the story opens the section


def test_claims_are_counted_and_marked(run_dir):
    out, results = run_dir
    html = render(results, out)
    assert html.count('<li class="claim holds">') == 3
    assert html.count('<li class="claim fails">') == 1
    assert "3/4 claims hold" in html
    assert "2/3 hold" in html and "1/1 hold" in html  # per part
    claims = html[html.index('<ul class="claims">'):]
    assert claims.count("✓") >= 3 and claims.count("✗") == 1
    assert "<code>mlp.test_accuracy &gt;= 0.995</code> · value <code>0.98</code>" in html


def test_header_names_version_device_seeds_date_and_time(run_dir):
    out, results = run_dir
    header = render(results, out).split("</header>")[0]
    for text in ("0.1.0", "cpu", "0, 1, 2", "2025-05-01 14:03 UTC", "3 min 12 s"):
        assert text in header


def test_story_and_titles_are_escaped(run_dir):
    out, results = run_dir
    results["experiments"][0]["title"] = 'Circles <img src=x onerror="alert(1)">'
    html = render(results, out)
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; friends" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


def test_story_newlines_become_paragraphs(run_dir):
    out, results = run_dir
    html = render(results, out)
    assert "<p>One ring of points inside another. A straight line cannot separate them.</p>" in html
    assert "<p>An MLP learns a bent boundary." in html


def test_nothing_is_loaded_from_elsewhere(run_dir):
    out, results = run_dir
    html = render(results, out)
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<(script|link|iframe|object|embed)\b", html)
    assert not re.search(r"@import|url\(", html)
    assert re.findall(r'<img src="([^"]*)"', html) and all(
        src.startswith("data:image/png;base64,") for src in re.findall(r'<img src="([^"]*)"', html))


def test_every_figure_is_embedded_with_its_title_as_alt_text(run_dir):
    out, results = run_dir
    html = render(results, out)
    images = re.findall(r'<img src="data:image/png;base64,([^"]*)" alt="([^"]*)"', html)
    assert [alt for _, alt in images] == ["Decision boundaries", "Fits", "The full picture"]
    embedded = {base64.b64decode(data) for data, _ in images}
    assert embedded == {(out / f["file"]).read_bytes() for f in all_figures(results)}


def test_metric_cells_are_mean_plus_minus_std_over_seeds(run_dir):
    out, results = run_dir
    html = render(results, out)
    assert "0.980 <span class=\"std\">± 0.008</span>" in html  # mlp test accuracy over three seeds
    one_seed = copy.deepcopy(results)
    one_seed["seeds"] = [0]
    for experiment in one_seed["experiments"]:
        for rung in experiment["rungs"]:
            for summary in [*rung["metrics"].values(), rung["fit_seconds"]]:
                summary["values"] = summary["values"][:1]
                summary["std"] = 0.0
    assert "±" not in render(one_seed, out)


def test_diverged_values_read_diverged(run_dir):
    out, results = run_dir
    html = render(results, out)
    section = html[html.index('id="exp-sine"'):]
    assert section.count('class="num diverged">diverged</td>') == 4  # train R², test R², MSE, loss


def test_stand_in_dataset_and_scoring_on_training_points_are_noted(run_dir):
    out, results = run_dir
    html = render(results, out)
    assert '<p class="note fallback">' in html
    assert "stood in for <strong>mnist</strong>" in html
    assert "scored on the points it was fitted on" in html
    del results["experiments"][0]["dataset"]["fallback_for"]
    assert "stood in for" not in render(results, out)


def test_claims_not_checked_on_a_stand_in_are_neither_held_nor_failed(run_dir):
    out, results = run_dir
    reason = "not checked: mnist was not available; ran on digits in its place"
    for claim in results["experiments"][0]["claims"]:
        claim.update(holds=None, reason=reason)
    html = render(results, out)
    section = html[html.index('id="exp-circles"'):html.index('id="exp-sine"')]
    assert section.count('<li class="claim unchecked">') == 3
    assert "✗" not in section and "✓" not in section.split("<h3>Claims")[1]
    assert "3 not checked" in section and reason in section
    assert ("1/1 claims checked hold; 3 not checked: mnist was not available; ran on digits in its place"
            in html)


def test_results_without_optional_fields_still_render(run_dir):
    out, results = run_dir
    for key in ("date", "total_seconds", "figures"):
        del results[key]
    for experiment in results["experiments"]:
        del experiment["story"], experiment["figures"]
    html = render(results, out)
    assert html.count('class="experiment"') == 2 and "<img" not in html


def test_an_equality_claim_that_holds_reads_margin_0(run_dir):
    out, results = run_dir
    # margin(==) is −|left − right|: −0.0 when it holds, and JSON keeps the sign
    results["experiments"][0]["claims"].append(
        {"text": "The same model in PyTorch has as many weights", "check": "mlp.n_params == mlp.n_params",
         "holds": True, "value": 7850.0, "left": 7850.0, "right": 7850.0, "margin": -0.0})
    html = render(json.loads(json.dumps(results)), out)
    assert "7,850 = 7,850, margin 0</span>" in html
    assert "+-0" not in html


def test_the_full_picture_is_a_table_of_the_best_rung_of_each_family(run_dir):
    out, results = run_dir
    html = render(results, out)
    overview = html[html.index('<section id="overview"'):]
    rows = re.findall(r"<tr><td>(.*?)</td></tr>", overview)
    cells = [[re.sub(r'^( class="num")?>', "", cell) for cell in row.split("</td><td")] for row in rows]
    assert cells == [
        ["Part 1, classification: two circles", "logreg+poly2", "0.996 acc", "mlp", "0.980 acc", "-0.016"],
        ["Part 2, regression: a sine wave", "line (no φ, raw inputs)", "0.600 R²", "–", "–", "–"],  # mlp-sgd diverged
    ]
    del results["experiments"][1]
    assert '<table class="full-picture">' not in render(results, out)  # one part: nothing to compare


# -- writing the file ---------------------------------------------------------------------------
def test_report_is_written_beside_results_and_nothing_else(run_dir):
    out, results = run_dir
    path = write_report(out, results)
    assert path == out / "report.html"
    assert sorted(p.name for p in out.iterdir()) == ["figures", "report.html", "results.json"]


def test_a_failed_write_keeps_the_old_report_and_leaves_no_temporary_file(run_dir, monkeypatch):
    out, results = run_dir
    (out / "report.html").write_text("old report", encoding="utf-8")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr("ladder.atomic.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(out, results)
    assert (out / "report.html").read_text(encoding="utf-8") == "old report"
    assert sorted(p.name for p in out.iterdir()) == ["figures", "report.html", "results.json"]


def test_a_missing_figure_names_the_file_and_the_fix(run_dir):
    out, results = run_dir
    (out / "figures" / "sine_fits.png").unlink()
    with pytest.raises(LadderError) as error:
        write_report(out)
    message = str(error.value)
    assert "sine_fits.png" in message and f"ladder run … --out {out}" in message
    assert not (out / "report.html").exists()
    assert sorted(p.name for p in out.iterdir()) == ["figures", "results.json"]


def test_a_figure_outside_the_run_folder_is_refused(run_dir):
    out, results = run_dir
    results["figures"][0]["file"] = "../../etc/passwd"
    with pytest.raises(LadderError, match="outside"):
        write_report(out, results)


def test_a_figure_that_is_not_a_png_is_refused(run_dir):
    out, results = run_dir
    (out / "figures" / "sine_fits.png").write_text("not an image", encoding="utf-8")
    with pytest.raises(LadderError, match="not a PNG"):
        write_report(out, results)


@pytest.mark.parametrize("content", [None, "{not json", json.dumps({"schema": 99})])
def test_a_missing_or_unreadable_results_file_is_a_ladder_error(tmp_path, content):
    if content is not None:
        (tmp_path / "results.json").write_text(content, encoding="utf-8")
    with pytest.raises(LadderError, match="results.json"):
        write_report(tmp_path)


def test_a_loader_can_stand_in_for_the_folder(run_dir):
    out, results = run_dir
    asked = []

    def load(file):
        asked.append(file)
        return (out / file).read_bytes()

    render(results, load)
    assert sorted(asked) == sorted(f["file"] for f in all_figures(results))


# -- a real browser -----------------------------------------------------------------------------
def test_the_report_reads_well_in_a_real_browser(run_dir, tmp_path_factory):
    """Chromium opens the file with no error, fetches nothing, decodes every figure, and on a
    phone's width only the tables scroll sideways."""
    assert CHROMIUM.exists(), (f"{CHROMIUM} is missing: install Debian's chromium "
                               f"(`apt-get install -y chromium`) to run the browser test")
    from playwright.sync_api import sync_playwright

    out, results = run_dir
    path = write_report(out)
    shots = tmp_path_factory.mktemp("screenshots")
    problems, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for name, viewport, mobile in [("laptop", {"width": 1280, "height": 800}, False),
                                           ("phone", {"width": 390, "height": 844}, True)]:
                context = browser.new_context(viewport=viewport, is_mobile=mobile, has_touch=mobile,
                                              device_scale_factor=2 if mobile else 1)
                page = context.new_page()
                page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
                page.on("request", lambda r: requests.append(r.url))
                page.goto(path.as_uri(), wait_until="load")

                assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
                assert page.locator("img").count() == len(all_figures(results))
                assert page.locator("section.experiment").count() == len(results["experiments"])
                for experiment in results["experiments"]:
                    section = page.locator(f"section#exp-{experiment['name']}")
                    assert section.locator("li.claim").count() == len(experiment["claims"])
                    assert section.locator("table tbody tr").count() == len(experiment["rungs"])
                assert page.locator("li.claim.holds").count() == 3
                assert page.locator("li.claim.fails").count() == 1
                assert page.evaluate("getComputedStyle(document.querySelector('li.claim.holds')).backgroundColor") \
                    != page.evaluate("getComputedStyle(document.querySelector('li.claim.fails')).backgroundColor")
                # Nothing sticks out of the viewport, except inside a table's own scroller.
                overflow = page.evaluate("""() => {
                    const width = document.documentElement.clientWidth;
                    const out = [...document.querySelectorAll('body *')]
                        .filter(el => !el.closest('.table-scroll') || el.classList.contains('table-scroll'))
                        .filter(el => el.getBoundingClientRect().right > width + 0.5)
                        .map(el => el.tagName + '.' + el.className);
                    return {width, scroll: document.documentElement.scrollWidth, out};
                }""")
                assert overflow["scroll"] <= overflow["width"], overflow
                assert overflow["out"] == [], overflow
                scrolls = page.evaluate("[...document.querySelectorAll('.table-scroll')]"
                                        ".map(el => el.scrollWidth > el.clientWidth)")
                # On a laptop every table fits; on a phone a wide one scrolls inside its own box.
                assert any(scrolls) if mobile else not any(scrolls), scrolls
                page.screenshot(path=str(shots / f"report-{name}.png"), full_page=True)
                context.close()
        finally:
            browser.close()
    assert problems == []
    assert requests and all(url == path.as_uri() or url.startswith("data:") for url in requests), requests
    assert (shots / "report-laptop.png").stat().st_size > 0 and (shots / "report-phone.png").stat().st_size > 0


def test_at_a_laptops_width_every_table_shows_whole_and_the_full_picture_is_a_table(tmp_path):
    """Part 5's table (fifteen columns) is shown whole at 1,280, 1,400 and 1,920 px, where it
    was cut at the text's width; the full picture is an HTML table, not a picture of one."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium to run the browser test"
    from playwright.sync_api import sync_playwright

    results = make_results()
    results["experiments"].append(part_5())
    results["figures"] = []  # what `ladder run` writes now
    for experiment in results["experiments"]:
        experiment["figures"] = []
    write_results(tmp_path, results)
    path = write_report(tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for width, height in [(1280, 800), (1400, 900), (1920, 1080)]:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(path.as_uri(), wait_until="load")
                tables = page.evaluate("""() => [...document.querySelectorAll('.table-scroll')].map(el => {
                    const box = el.getBoundingClientRect();
                    return {part: el.closest('section').id, left: box.left, right: box.right,
                            cut: el.scrollWidth - el.clientWidth};
                })""")
                assert tables, "no table"
                for table in tables:
                    assert table["cut"] <= 0, (width, table)  # nothing hidden to scroll to
                    assert 0 <= table["left"] and table["right"] <= width, (width, table)
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                headings = page.locator("#exp-mnist-shift table").first.locator("thead th")
                assert headings.count() == 16  # rung, 2 scores, 9 moved-digit scores, loss, features, params, fit s
                overview = page.locator("section#overview")
                assert overview.locator("table tbody tr").count() == 3
                assert overview.locator("img").count() == 0
                assert overview.locator("table tbody tr").nth(2).locator("td").all_text_contents() == [
                    "Part 5, what a CNN's bias buys: shifted and rotated digits", "linear (no φ, raw inputs)",
                    "0.677 acc, moved digits", "cnn+aug", "0.976 acc, moved digits", "+0.299"]
                page.close()
        finally:
            browser.close()


# -- end to end ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_ladder_report_rebuilds_the_report_of_a_run(tmp_path):
    from conftest import run_ladder

    out = tmp_path / "run"
    ran = run_ladder("run", "circles", "--out", out)
    assert ran.returncode == 0, ran.stderr
    first = (out / "report.html").read_text(encoding="utf-8")
    (out / "report.html").unlink()
    rebuilt = run_ladder("report", out)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (out / "report.html").read_text(encoding="utf-8") == first
    assert '<section id="exp-circles" class="experiment">' in first
    assert "<img" in first
    figure = next((out / "figures").glob("*.png"))
    figure.unlink()
    broken = run_ladder("report", out)
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert figure.name in broken.stderr and "ladder run" in broken.stderr
    assert (out / "report.html").read_text(encoding="utf-8") == first  # the old report stays
