"""The report's content as renderer-neutral blocks (headings, paragraphs, lists, tables), built
once from a summary and rendered to Markdown and HTML alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

HOW_TO_READ = (
    "How to read this: every stressed image is rendered from the same scene as its clean twin, so "
    "results are *paired*. A drop is clean-twin accuracy minus stressed accuracy on the same items, in "
    "percentage points (positive = worse), with a 95% bootstrap interval that resamples whole clean-twin "
    "families (a clean item and all its stressed versions). Flips count paired items that went from "
    "correct to wrong (c→w) and back (w→c). Accuracies carry 95% Wilson intervals, which treat items as "
    "independent. *Micro* averages over items, *macro* averages over sub-types with equal weight. The "
    "worst dimension (lowest stressed accuracy, micro) is the number an aggregate hides. The breaking "
    "point is the severity at which accuracy falls halfway from clean to chance, interpolated on the "
    "severity curve ('>5': never; 'n/a': clean accuracy is not above chance). CE is the ImageNet-C "
    "corruption error relative to the reference model (summed errors over severities, per sub-type; "
    "mCE averages sub-types): below 1 is more robust than the reference. † marks a drop interval "
    "resampled from fewer than 10 clean-twin families: too few to trust.")
FEW_TWINS = 10


@dataclass
class Block:
    """One piece of the report: kind is 'h1', 'h2', 'p', 'ul' or 'table'."""

    kind: str
    text: str = ""
    items: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def pct(x: float | None, signed: bool = False) -> str:
    """A proportion as a percentage with one decimal ('–' for None; never '-0.0')."""
    if x is None:
        return "–"
    v = round(100 * float(x), 1) + 0.0
    return f"{v:+.1f}" if signed else f"{v:.1f}"


def num(x: float | None, digits: int = 2) -> str:
    """A plain number ('–' for None)."""
    return "–" if x is None else f"{float(x):.{digits}f}"


def acc_ci(c: dict[str, Any] | None) -> str:
    """'acc [lo, hi]' in percent for a cell."""
    if not c or c.get("accuracy") is None:
        return "–"
    return f"{pct(c['accuracy'])} [{pct(c['ci95'][0])}, {pct(c['ci95'][1])}]"


def drop_ci(p: dict[str, Any] | None) -> str:
    """'drop [lo, hi]' in percentage points for a paired cell."""
    if not p or "drop" not in p:
        return "–"
    few = " †" if p.get("n_clean_twins", FEW_TWINS) < FEW_TWINS else ""
    return f"{pct(p['drop'])} [{pct(p['drop_ci95'][0])}, {pct(p['drop_ci95'][1])}]{few}"


def bp(curve: dict[str, Any] | None) -> str:
    """A breaking point: the severity, '>max' if never reached, 'n/a' if clean <= chance."""
    if not curve:
        return "–"
    if curve["breaking_point"] is not None:
        return num(curve["breaking_point"])
    if curve["clean"] <= curve["chance"]:
        return "n/a"
    return f">{max(curve['severities'], default=5)}"


def _headline(s: dict[str, Any]) -> Block:
    ce = s.get("corruption_error")
    items = [f"model: {s['model']} ({s['n_predictions']} predictions: {s['n_clean']} clean, "
             f"{s['n_stressed']} stressed, {s['n_pairs']} paired with their clean twin)",
             f"clean accuracy: {acc_ci(s['clean'])} (n={s['clean']['n']})",
             f"stressed accuracy, micro over items: {acc_ci(s['stressed_micro'])} (n={s['stressed_micro']['n']})",
             f"stressed accuracy, macro over sub-types: {pct(s['stressed_macro_over_subtypes'])}"]
    w = s.get("worst_dimension")
    if w:
        items.append(f"worst dimension ({w['metric']}): {w['dimension']} {pct(w['accuracy'])} "
                     f"[{pct(w['ci95'][0])}, {pct(w['ci95'][1])}]")
    if ce:
        items.append(f"mCE vs reference '{ce['reference_model']}' (mean over sub-types): {num(ce['mCE'], 3)}")
    st = s["stressed_micro"]
    items.append(f"unparsable answers: {pct(st['unparsable_rate'])}% stressed, "
                 f"{pct(s['clean']['unparsable_rate'])}% clean; backend errors: {pct(st['error_rate'])}% "
                 f"stressed, {pct(s['clean']['error_rate'])}% clean; stressed items without their clean "
                 f"twin: {s['n_unpaired_stressed']}")
    return Block("ul", items=items)


def _per_dimension(s: dict[str, Any]) -> list[Block]:
    mce = (s.get("corruption_error") or {}).get("mCE_per_dimension", {})
    rows = []
    for dim, c in s["by_dimension"].items():
        p = s["paired_by_dimension"].get(dim, {})
        rows.append([dim, str(c["n"]), acc_ci(c), pct(p.get("clean_accuracy")), drop_ci(p),
                     pct(p.get("flip_correct_to_wrong")), pct(p.get("flip_wrong_to_correct")),
                     num(p.get("relative_robustness")), bp(s["curves_by_dimension"].get(dim)),
                     pct(s["macro_by_dimension"].get(dim)), num(mce.get(dim))])
    header = ["dimension", "n", "stressed acc % [95% CI] (micro)", "clean twins acc %", "drop pp [95% CI]",
              "flips c→w %", "flips w→c %", "rel. robustness", "breaking point",
              "macro over sub-types %", "mCE"]
    return [Block("h2", "Per dimension (stressed items vs their clean twins)"),
            Block("table", header=header, rows=rows)]


def _subtype_severity(s: dict[str, Any]) -> list[Block]:
    curves = s["curves_by_subtype"]
    sevs = sorted({v for c in curves.values() for v in c["severities"]})
    ce = (s.get("corruption_error") or {}).get("per_subtype", {})
    rows = []
    for name, c in curves.items():
        acc = dict(zip(c["severities"], c["accuracy"], strict=True))
        rows.append([name, pct(c["clean"])] + [pct(acc.get(v)) for v in sevs] + [bp(c), num(ce.get(name))])
    header = ["dimension/sub-type", "clean"] + [f"s{v}" for v in sevs] + ["breaking point", "CE"]
    return [Block("h2", "Accuracy % per sub-type and severity (paired items; clean = their clean twins)"),
            Block("table", header=header, rows=rows)]


def _paired_subtype(s: dict[str, Any]) -> list[Block]:
    rows = []
    for name, p in s["paired_by_subtype"].items():
        unp = s["by_subtype"].get(name, {}).get("unparsable_rate")
        rows.append([name, str(p["n_pairs"]), pct(p["clean_accuracy"]), pct(p["stressed_accuracy"]),
                     drop_ci(p), pct(p["flip_correct_to_wrong"]), pct(p["flip_wrong_to_correct"]),
                     num(p["relative_robustness"]), pct(unp)])
    header = ["dimension/sub-type", "pairs", "clean %", "stressed %", "drop pp [95% CI]", "flips c→w %",
              "flips w→c %", "rel. robustness", "unparsable %"]
    return [Block("h2", "Paired drops and flips per sub-type (all severities)"),
            Block("table", header=header, rows=rows)]


def _abilities(s: dict[str, Any]) -> list[Block]:
    abilities = sorted(set(s["by_ability_clean"]) | set(s["by_ability_stressed"]))
    rows = []
    for ab in abilities:
        c, t = s["by_ability_clean"].get(ab), s["by_ability_stressed"].get(ab)
        rows.append([ab, str(c["n"] if c else 0), acc_ci(c), str(t["n"] if t else 0), acc_ci(t),
                     drop_ci(s["paired_by_ability"].get(ab)), pct(t["unparsable_rate"] if t else None)])
    header = ["ability", "n clean", "clean acc % [95% CI]", "n stressed", "stressed acc % [95% CI]",
              "drop pp [95% CI]", "unparsable %"]
    dims = list(s["by_dimension"])
    grid = []
    for ab in abilities:
        cells = []
        for d in dims:
            c = s["by_dimension_ability"].get(f"{d}/{ab}")
            p = s["paired_by_dimension_ability"].get(f"{d}/{ab}")
            cells.append("–" if not c else f"{pct(c['accuracy'])} ({pct(p['drop'], True) if p else '–'})")
        grid.append([ab] + cells)
    return [Block("h2", "Per ability"), Block("table", header=header, rows=rows),
            Block("h2", "Which stress breaks which ability: stressed acc % (paired drop, pp)"),
            Block("table", header=["ability"] + dims, rows=grid)]


def _side_by_side(rows_in: dict[str, dict[str, Any]]) -> list[Block]:
    dims = sorted({d for r in rows_in.values() for d in r.get("by_dimension", {})})
    rows = []
    for label, r in rows_in.items():
        w = r.get("worst_dimension") or {}
        rows.append([label, pct((r.get("clean") or {}).get("accuracy")),
                     pct((r.get("stressed_micro") or {}).get("accuracy")),
                     pct(r.get("stressed_macro_over_subtypes"))]
                    + [pct(r.get("by_dimension", {}).get(d, {}).get("accuracy")) for d in dims]
                    + [f"{w.get('dimension', '–')} ({pct(w.get('accuracy'))})",
                       num((r.get("corruption_error") or {}).get("mCE"))])
    header = ["model", "clean", "stressed (micro)", "stressed (macro)"] + dims + ["worst dimension", "mCE"]
    return [Block("h2", "Models side by side (accuracy %; per-dimension columns are stressed, micro)"),
            Block("table", header=header, rows=rows)]


def build_blocks(summary: dict[str, Any], title: str,
                 extra_rows: dict[str, dict[str, Any]] | None = None) -> list[Block]:
    """All blocks of the report, in order (extra sections and figures are added by renderers)."""
    blocks = [Block("h1", title), Block("p", HOW_TO_READ), _headline(summary)]
    if summary["n_stressed"]:
        blocks += _per_dimension(summary) + _subtype_severity(summary) + _paired_subtype(summary)
    blocks += _abilities(summary)
    if extra_rows:
        blocks += _side_by_side(extra_rows)
    return blocks
