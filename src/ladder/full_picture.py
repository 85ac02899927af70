"""The full picture: on each problem, the best rung whose φ a person chose against the best rung
that learned its φ, and the gap between them.

Plain data read from results records, so the HTML report shows it as a table and
`plots.full_picture` draws the same rows.
"""

from __future__ import annotations

import re

from .metrics import headline

LEARNED_KINDS = {"mlp", "cnn"}


def rung_family(rung: dict) -> str:
    """"engineered" or "learned": which side of the full picture a rung stands on.

    The rule: a rung whose record has a `features` block is "engineered" (a person chose φ, even
    when an MLP follows it). Otherwise it is "learned" when its model kind is mlp or cnn — read
    from `rung["model"]["kind"]` when the record carries it, else from the rung's name, split at
    non-alphanumerics, having a part that starts with "mlp" or "cnn" ("mlp", "cnn-fast",
    "mlp2"). Everything else (linear, logistic, stacked linear) is "engineered": the identity φ,
    the baseline that hand-made features improve on.
    """
    if rung.get("features"):
        return "engineered"
    kind = (rung.get("model") or {}).get("kind")
    if kind is not None:
        return "learned" if kind in LEARNED_KINDS else "engineered"
    parts = re.split(r"[^a-z0-9]+", rung["name"].lower())
    return "learned" if any(p.startswith(tuple(LEARNED_KINDS)) for p in parts) else "engineered"


def best_rungs(record) -> dict:
    """The best engineered and the best learned rung of one experiment by mean test metric:
    {"problem", "metric", "engineered": (name, value) | None, "learned": (name, value) | None}."""
    key = headline(record.get("task", "classification"))
    best = {"engineered": None, "learned": None}
    for rung in record["rungs"]:
        value = rung["metrics"].get(key, {}).get("mean")
        if value is None:  # not scored, or diverged: no score to rank it by
            continue
        family = rung_family(rung)
        if best[family] is None or value > best[family][1]:
            best[family] = (rung["name"], value)
    return {"problem": record.get("title") or record["name"], "metric": key, **best}


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
        unit = "acc" if best["metric"] == "test_accuracy" else "R²"
        eng, lrn = best["engineered"], best["learned"]
        rows.append([best["problem"], eng[0] if eng else "–", f"{eng[1]:.3f} {unit}" if eng else "–",
                     lrn[0] if lrn else "–", f"{lrn[1]:.3f} {unit}" if lrn else "–",
                     f"{lrn[1] - eng[1]:+.3f}" if eng and lrn else "–"])
    return rows
