"""What `ladder run` prints, as rich renderables a notebook can print too: the results table and the claims."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from .claims import parse
from .metrics import columns, probe_columns, probed_on


def _fmt(summary: dict | None, digits: int = 3) -> str:
    """mean ± std over seeds (the std only when there are several); "–" for a missing value."""
    if summary is None or summary.get("mean") is None:
        return "–"
    text = f"{summary['mean']:.{digits}f}"
    return text + (f" ±{summary['std']:.{digits}f}" if len(summary["values"]) > 1 else "")


def _number(value: float | None) -> str:
    """7850.0 → "7,850"; 0.98765 → "0.9877"; None (diverged) → "null"."""
    if value is None:
        return "null"
    if float(value).is_integer() and abs(value) >= 1000:
        return f"{int(value):,}"
    return f"{value:.4g}"


def results_table(experiment: dict) -> Table | Group:
    """The table of one experiment: one row per rung, metrics as mean ± std over seeds.

    An experiment scored on moved digits (part 5) gets a second table, of its probes.
    """
    data = experiment["dataset"]
    fallback = f", in place of {data['fallback_for']}" if data.get("fallback_for") else ""
    sizes = (f"{data['n_train']:,} points, scored on the points it was fitted on" if data.get("test_is_train")
             else f"{data['n_train']:,} train, {data['n_test']:,} test")
    title = Text(experiment["title"] or experiment["name"])
    title.append(f"  ({data['name']}{fallback}: {sizes})", style="dim")
    table = Table(title=title, title_justify="left")
    for heading in ("rung", "backend"):
        table.add_column(heading, no_wrap=True)
    table.add_column("features", justify="right")
    table.add_column("params", justify="right")
    shown = [(m.key, m.short) for m in columns(experiment["task"])]
    for _, heading in shown:
        table.add_column(heading, justify="right", no_wrap=True)
    table.add_column("fit s", justify="right", no_wrap=True)
    for rung in experiment["rungs"]:
        params = "–" if rung["n_params"] is None else f"{rung['n_params']:,}"
        table.add_row(Text(rung["name"]), rung["backend"], "–" if rung["n_features"] is None else f"{rung['n_features']:,}",
                      params,
                      *_cells(rung, [key for key, _ in shown]), _fmt(rung["fit_seconds"], 2))
    return Group(table, _probe_table(experiment)) if experiment.get("probes") else table


def _cells(rung: dict, keys: list[str]) -> list:
    if rung.get("status", "ok") != "ok":
        return [Text(rung["status"], style="red")] * len(keys)
    return [_fmt(rung["metrics"].get(k)) for k in keys]


def _probe_table(experiment: dict) -> Table:
    """Test accuracy on moved digits: →N px shifted N pixels right, ↻N° turned N degrees."""
    probes = experiment["probes"]
    on = probed_on(experiment)
    title = Text("Moved digits: test accuracy", style="bold")
    title.append(f"  (→N px: shifted N pixels right, ↻N°: turned N degrees; {on})", style="dim")
    table = Table(title=title, title_justify="left")
    table.add_column("rung", no_wrap=True)
    shown = probe_columns(experiment)
    for _, heading in shown:
        table.add_column(heading, justify="right", no_wrap=True)
    for rung in experiment["rungs"]:
        table.add_row(Text(rung["name"]), *_cells(rung, [key for key, _ in shown]))
    return table


# ✓ holds, ✗ fails, – not checked (the data stood in for the data the claim was written for).
_MARKS = {True: ("✓", "green"), False: ("✗", "red"), None: ("–", "yellow")}


def claims_summary(experiment: dict) -> Group:
    """Each rung's notes (warnings while fitting) and divergence, then each claim with ✓, ✗ or –
    (not checked).

    A claim shows both sides and its margin ("0.488 ≥ 0.472, margin +0.016"), so a reader sees how
    close it came; a claim on a rung that diverged says so instead.
    """
    lines = []
    for rung in experiment["rungs"]:
        for note in rung.get("notes", []):
            lines.append(Text(f" note ({rung['name']}): {note}", style="dim"))
        if rung.get("status", "ok") == "diverged":
            lines.append(Text(f" {rung['name']} {rung['status']} at epoch {rung.get('epoch')} "
                              f"(seed {rung.get('seed')}): {rung.get('reason')}; try a lower learning rate",
                              style="red"))
        elif rung.get("status", "ok") == "failed":  # each failed seed is listed after the tables
            lines.append(Text(f" {rung['name']} failed (seed {rung['seed']}): {rung['reason']}", style="red"))
    for claim in experiment["claims"]:
        line = Text(" ")
        line.append(*_MARKS[claim["holds"]])
        line.append(f" {claim['text']}  ")
        line.append(f"({claim['check']}: {claim_sides(claim)})", style="dim")
        lines.append(line)
    return Group(*lines)


def claim_sides(claim: dict) -> str:
    """"0.488 ≥ 0.472, margin +0.016", or why the claim could not be checked."""
    if claim.get("reason"):
        return claim["reason"]
    if "right" not in claim:  # a results.json from before claims kept both sides
        return f"value {_number(claim['value'])}"
    op = parse(claim["check"]).op
    op = {">=": "≥", "<=": "≤", "==": "="}.get(op, op)
    margin = claim["margin"]
    if margin == 0:  # an "==" claim that holds has margin −0.0 (−|0|): it reads "margin 0", not "+-0"
        margin = 0.0
    return (f"{_number(claim['left'])} {op} {_number(claim['right'])}, "
            f"margin {'+' if margin is not None and margin > 0 else ''}{_number(margin)}")
