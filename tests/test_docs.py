"""What the README tells a user works as written: its links lead to files of the repository, and
its library example runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def links(markdown: Path) -> list[str]:
    """The targets of a Markdown file's links and images that are not web addresses or anchors."""
    text = markdown.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:|#", t)]


def test_every_link_of_the_readme_and_the_docs_leads_to_a_file_of_the_repository():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert ROOT / "docs" / "architecture.md" in pages
    for page in pages:
        for target in links(page):
            path = (page.parent / target).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), f"{page.name}: {target}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared/DESIGN.md" not in readme  # not in a user's clone
    for page in ("architecture", "experiment-file", "results-json", "protocol"):
        assert f"(docs/{page}.md)" in readme


def test_run_experiment_takes_an_experiment_s_name_as_the_readme_shows():
    from ladder.runner import run_experiment

    run = run_experiment("circles", [0])
    assert run.record["name"] == "circles"
    assert {rung["status"] for rung in run.record["rungs"]} == {"ok"}
    assert set(run.models) == {rung["name"] for rung in run.record["rungs"]}
