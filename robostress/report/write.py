"""summary.json, report.md and a self-contained report.html (all model text escaped)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from PIL import Image

from robostress.render.io import write_atomic
from robostress.report.figures import all_figures

HOW_TO_READ = (
    "Every stressed image is rendered from the same scene as its clean twin, so drops are *paired*: "
    "a drop is the share of items answered correctly on the clean twin minus on the stressed image, "
    "with a 95% paired-bootstrap interval; flips count items that changed from correct to wrong and back. "
    "Accuracies carry 95% Wilson intervals. *Micro* averages over items, *macro* over sub-types. "
    "The worst dimension is the number a single aggregate hides. The breaking point is the severity at "
    "which accuracy falls halfway from clean to chance ('>5': never). CE is the ImageNet-C corruption "
    "error relative to the reference model (the weight-free `classical` baseline): below 1 is more robust.")


def _pct(x: Any) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _ci(c: dict[str, Any]) -> str:
    return f"{_pct(c['accuracy'])} [{_pct(c['ci95'][0])}, {_pct(c['ci95'][1])}]"


def markdown(summary: dict[str, Any], title: str, extra_rows: dict[str, dict[str, Any]] | None = None,
             extra_sections: list[str] | None = None) -> str:
    """The report as Markdown (tables only; figures are linked)."""
    s = summary
    out = [f"# {title}", "", HOW_TO_READ, "",
           f"- clean accuracy: {_ci(s['clean'])} (n={s['clean']['n']})",
           f"- stressed accuracy, micro over items: {_ci(s['stressed_micro'])} (n={s['stressed_micro']['n']})",
           f"- stressed accuracy, macro over sub-types: {_pct(s['stressed_macro_over_subtypes'])}"]
    if s.get("worst_dimension"):
        out.append(f"- **worst dimension: {s['worst_dimension']['dimension']} "
                   f"({_pct(s['worst_dimension']['accuracy'])})**")
    if s.get("corruption_error"):
        out.append(f"- mCE vs reference: {s['corruption_error']['mCE']:.3f}" if s["corruption_error"]["mCE"]
                   is not None else "- mCE: –")
    out += ["", "## Per dimension (paired with clean twins)", "",
            "| dimension | n | stressed acc % [95% CI] | clean acc % | drop % [95% CI] | flips c→w % | flips w→c % "
            "| rel. robustness | breaking point | mCE |", "|" + "---|" * 10]
    for dim, c in s["by_dimension"].items():
        p = s["paired_by_dimension"].get(dim, {})
        bp = s["curves_by_dimension"].get(dim, {}).get("breaking_point")
        mce = (s.get("corruption_error") or {}).get("mCE_per_dimension", {}).get(dim)
        rr = p.get("relative_robustness")
        out.append(f"| {dim} | {c['n']} | {_ci(c)} | {_pct(p.get('clean_accuracy'))} | {_pct(p.get('drop'))} "
                   f"[{_pct(p.get('drop_ci95', [None])[0])}, {_pct(p.get('drop_ci95', [None, None])[1])}] "
                   f"| {_pct(p.get('flip_correct_to_wrong'))} | {_pct(p.get('flip_wrong_to_correct'))} "
                   f"| {'–' if rr is None else f'{rr:.2f}'} | {'>5' if bp is None else f'{bp:.2f}'} "
                   f"| {'–' if mce is None else f'{mce:.2f}'} |")
    out += ["", "## Sub-type × severity accuracy % (paired items; s0 = clean twin)", "",
            "| dimension / sub-type | s0 | s1 | s2 | s3 | s4 | s5 | breaking point | unparsable % |", "|" + "---|" * 9]
    for name, c in s["curves_by_subtype"].items():
        acc = dict(zip(c["severities"], c["accuracy"], strict=True))
        unp = s["by_subtype"].get(name, {}).get("unparsable_rate")
        bp = c["breaking_point"]
        out.append(f"| {name} | {_pct(c['clean'])} | " + " | ".join(_pct(acc.get(i)) for i in range(1, 6))
                   + f" | {'>5' if bp is None else f'{bp:.2f}'} | {_pct(unp)} |")
    out += ["", "## Per ability", "", "| ability | clean acc % [CI] | stressed acc % [CI] | unparsable % |",
            "|---|---|---|---|"]
    for ab in sorted(set(s["by_ability_clean"]) | set(s["by_ability_stressed"])):
        c, t = s["by_ability_clean"].get(ab), s["by_ability_stressed"].get(ab)
        out.append(f"| {ab} | {_ci(c) if c else '–'} | {_ci(t) if t else '–'} | {_pct(t['unparsable_rate']) if t else '–'} |")
    if extra_rows:
        dims = sorted({d for r in extra_rows.values() for d in r.get("by_dimension", {})})
        out += ["", "## Models side by side (stressed accuracy %, micro)", "",
                "| model | clean | " + " | ".join(dims) + " | worst dimension |", "|" + "---|" * (len(dims) + 3)]
        for label, r in extra_rows.items():
            w = r.get("worst_dimension") or {}
            out.append(f"| {label} | {_pct(r['clean']['accuracy'])} | "
                       + " | ".join(_pct(r["by_dimension"].get(d, {}).get("accuracy")) for d in dims)
                       + f" | {w.get('dimension', '–')} ({_pct(w.get('accuracy'))}) |")
    for sec in extra_sections or []:
        out += ["", sec]
    out += ["", "Figures: `figures/heatmap.png`, `figures/severity_curves.png`, `figures/ability_curves.png`, "
            "`figures/flips.png`.", ""]
    return "\n".join(out)


def _img64(path: Path | str, size: int = 256) -> str:
    with Image.open(path) as im:
        im = im.convert("RGB")
        im.thumbnail((size, size))
        buf = io.BytesIO()
        im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _md_table_to_html(md: str) -> str:
    """Minimal Markdown -> HTML for the report's own (escaped) text: headings, lists, tables."""
    out, in_table = [], False
    for line in md.splitlines():
        esc = html.escape(line)
        if line.startswith("|"):
            if set(line) <= set("|-"):
                continue
            cells = [c.strip() for c in esc.strip("|").split("|")]
            tag = "th" if not in_table else "td"
            if not in_table:
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("# "):
            out.append(f"<h1>{esc[2:]}</h1>")
        elif line.startswith("## "):
            out.append(f"<h2>{esc[3:]}</h2>")
        elif line.startswith("- "):
            out.append(f"<p>• {esc[2:]}</p>")
        elif line.strip():
            out.append(f"<p>{esc}</p>")
    if in_table:
        out.append("</table>")
    return "\n".join(out)


def _grid_html(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    out = ["<h2>Clean vs stressed, with the model's answers</h2>", "<table class=grid>"]
    for r in rows:
        def ans(key: str, ok: bool, r: dict[str, Any] = r) -> str:
            mark = "✔" if ok else "✘"
            return f"<span class={'ok' if ok else 'bad'}>{mark}</span> <code>{html.escape(str(r[key])[:200])}</code>"
        opts = "<br>".join(html.escape(f"{chr(65 + i)}. {o}") for i, o in enumerate(r.get("options", [])))
        out.append(
            f"<tr><td><img src='{_img64(r['clean_image'])}' width=192><br>clean: {ans('clean_answer', r['clean_correct'])}</td>"
            f"<td><img src='{_img64(r['stressed_image'])}' width=192><br>{html.escape(r['label'])}: "
            f"{ans('stressed_answer', r['stressed_correct'])}</td>"
            f"<td><b>{html.escape(r['question'])}</b><br>{opts}<br>truth: {html.escape(str(r.get('truth')))}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


CSS = ("body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}table{border-collapse:collapse;"
       "margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px}img{max-width:100%}"
       ".ok{color:green}.bad{color:#c00}code{white-space:pre-wrap}")


def write_report(run_dir: Path, summary: dict[str, Any], preds: Any, *, title: str,
                 image_grid: list[dict[str, Any]] | None = None,
                 extra_rows: dict[str, dict[str, Any]] | None = None,
                 extra_sections: list[str] | None = None) -> dict[str, Path]:
    """Write summary.json, report.md, figures/ and report.html into ``run_dir``."""
    run_dir = Path(run_dir)
    files = {"summary": run_dir / "summary.json", "md": run_dir / "report.md", "html": run_dir / "report.html"}
    write_atomic(files["summary"], json.dumps(summary, indent=1, sort_keys=True, default=str).encode())
    md = markdown(summary, title, extra_rows, extra_sections)
    write_atomic(files["md"], md.encode())
    figs = all_figures(summary, run_dir / "figures")
    body = [_md_table_to_html(md)]
    for name, p in figs.items():
        body.append(f"<h2>{html.escape(name.replace('_', ' '))}</h2><img src='{_img64(p, 1400)}'>")
    body.append(_grid_html(image_grid or []))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>")
    write_atomic(files["html"], page.encode())
    return {**files, **{f"figure_{k}": v for k, v in figs.items()}}
