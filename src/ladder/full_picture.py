"""The full picture: on each problem, the best rung whose φ a person chose against the best rung
that learned its φ, and the gap between them.

Plain data read from results records, so the HTML report shows it as a table and
`plots.full_picture` draws the same rows.
"""

from __future__ import annotations

import re

from .metrics import headline, probe_columns

LEARNED_KINDS = {"mlp", "cnn", "cnn1d"}
REORDERINGS = {"shuffle"}  # feature maps that only reorder the inputs: no φ a person chose


def rung_family(rung: dict) -> str:
    """"engineered" or "learned": which side of the full picture a rung stands on.

    The rule: a rung whose record has a `features` block is "engineered" (a person chose φ, even
    when an MLP follows it), unless that block only reorders the inputs (`shuffle`). Otherwise it is "learned" when its model kind is mlp or cnn — read
    from `rung["model"]["kind"]` when the record carries it, else from the rung's name, split at
    non-alphanumerics, having a part that starts with "mlp" or "cnn" ("mlp", "cnn-fast",
    "mlp2"). Everything else (linear, logistic, stacked linear) is "engineered": the identity φ,
    the baseline that hand-made features improve on.
    """
    if _phi(rung):
        return "engineered"
    kind = (rung.get("model") or {}).get("kind")
    if kind is not None:
        return "learned" if kind in LEARNED_KINDS else "engineered"
    parts = re.split(r"[^a-z0-9]+", rung["name"].lower())
    return "learned" if any(p.startswith(tuple(LEARNED_KINDS)) for p in parts) else "engineered"


def score(record: dict, rung: dict) -> float | None:
    """What a rung is ranked by: its mean test metric, or, in an experiment scored on moved
    digits (part 5), its test accuracy averaged over every move, since that is the part's point.
    None when it has no such score (not scored, or diverged)."""
    keys = [key for key, _ in probe_columns(record)] or [headline(record.get("task", "classification"))]
    values = [rung["metrics"].get(key, {}).get("mean") for key in keys]
    return None if None in values else sum(values) / len(values)


def _phi(rung: dict) -> bool:
    """Whether a person chose the rung's φ: a feature map that does more than reorder the inputs."""
    return (rung.get("features") or {}).get("kind") not in (None, *REORDERINGS)


def best_rungs(record) -> dict:
    """The best engineered and the best learned rung of one experiment by `score`:
    {"problem", "metric", "engineered": (name, value, rung) | None, "learned": (…) | None}."""
    best = {"engineered": None, "learned": None}
    for rung in record["rungs"]:
        value = score(record, rung)
        if value is None:
            continue
        family = rung_family(rung)
        if best[family] is None or value > best[family][1]:
            best[family] = (rung["name"], value, rung)
    metric = "moved" if record.get("probes") else headline(record.get("task", "classification"))
    return {"problem": record.get("title") or record["name"], "metric": metric, **best}


def experiments(records) -> list[dict]:
    """A whole results.json, one experiment record, or a list of them → a list of experiment records."""
    if isinstance(records, dict):
        return list(records["experiments"]) if "experiments" in records else [records]
    return list(records)


#: The columns of the full picture, as the report and `plots.full_picture` head them.
HEADINGS = ("problem", "best hand-made φ", "test", "best learned φ", "test", "learned − hand-made")


def rows(records) -> list[list[str]]:
    """One row of text per experiment under HEADINGS: the problem, the best engineered rung and
    its test score, the best learned rung and its score, and the gap ("–" where a side is missing):
    ["two circles", "logreg+poly2", "0.980 acc", "mlp", "0.960 acc", "-0.020"]."""
    rows = []
    for best in map(best_rungs, experiments(records)):
        unit = {"test_accuracy": "acc", "moved": "acc, moved digits"}.get(best["metric"], "R²")
        eng, lrn = best["engineered"], best["learned"]
        # A linear model on the raw inputs is the baseline a φ improves on, not a φ a person made.
        name = eng and (eng[0] if _phi(eng[2]) else f"{eng[0]} (no φ, raw inputs)")
        rows.append([best["problem"], name or "–", f"{eng[1]:.3f} {unit}" if eng else "–",
                     lrn[0] if lrn else "–", f"{lrn[1]:.3f} {unit}" if lrn else "–",
                     f"{lrn[1] - eng[1]:+.3f}" if eng and lrn else "–"])
    return rows
