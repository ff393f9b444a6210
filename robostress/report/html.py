"""report.html: one self-contained page (figures and images inlined as base64 PNG, no scripts,
no external resources). Every piece of item, model or user text goes through html.escape."""

from __future__ import annotations

import base64
import html
import io
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from robostress.errors import DataError
from robostress.report.figures import FIGURES
from robostress.report.tables import Block

log = logging.getLogger(__name__)
THUMB_PX = 256
MAX_ANSWER_CHARS = 300
MAX_TEXT_CHARS = 1000
GRID_KEYS = ("question", "clean_image", "stressed_image", "clean_answer", "stressed_answer",
             "clean_correct", "stressed_correct", "label")
CSS = ("body{font-family:system-ui,sans-serif;max-width:1200px;margin:auto;padding:1em;color:#222}"
       "table{border-collapse:collapse;margin:.5em 0 1.2em}td,th{border:1px solid #ccc;padding:3px 7px;"
       "font-size:13px;text-align:right}td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}"
       "img{max-width:100%}.ok{color:#1a7f37}.bad{color:#c00}code{white-space:pre-wrap;word-break:break-all}"
       "table.grid td{text-align:left;vertical-align:top}p.how{background:#f7f7f7;padding:.6em;font-size:14px}")


def esc(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """Escaped, length-bounded text (untrusted model or item text)."""
    s = str(text)
    return html.escape(s if len(s) <= limit else s[:limit] + "…")


def _inline(escaped: str) -> str:
    """**bold**, *italic* and `code` on already escaped text (only fixed tags are added)."""
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escaped)
    escaped = re.sub(r"(?<![*\w])\*(\w[^*]*?)\*(?![*\w])", r"<i>\1</i>", escaped)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


def blocks_html(blocks: Sequence[Block]) -> str:
    """HTML of the report's blocks."""
    out = []
    for b in blocks:
        if b.kind in ("h1", "h2"):
            out.append(f"<{b.kind}>{_inline(esc(b.text))}</{b.kind}>")
        elif b.kind == "p":
            out.append(f"<p class=how>{_inline(esc(b.text, 10_000))}</p>")
        elif b.kind == "ul":
            out.append("<ul>" + "".join(f"<li>{_inline(esc(it))}</li>" for it in b.items) + "</ul>")
        elif b.kind == "table":
            head = "".join(f"<th>{esc(h)}</th>" for h in b.header)
            body = "".join("<tr>" + "".join(f"<td>{_inline(esc(c))}</td>" for c in r) + "</tr>" for r in b.rows)
            out.append(f"<table><tr>{head}</tr>{body}</table>")
    return "\n".join(out)


def markdown_html(md: str) -> str:
    """Minimal Markdown -> HTML for extra sections: headings, lists, pipe tables, paragraphs."""
    blocks: list[Block] = []
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
            if all(set(c) <= set("-: ") for c in cells):
                continue
            if blocks and blocks[-1].kind == "table":
                blocks[-1].rows.append(cells)
            else:
                blocks.append(Block("table", header=cells))
        elif line.startswith("#"):
            blocks.append(Block("h2", line.lstrip("#").strip()))
        elif line.startswith("- "):
            if blocks and blocks[-1].kind == "ul":
                blocks[-1].items.append(line[2:])
            else:
                blocks.append(Block("ul", items=[line[2:]]))
        elif line.strip():
            blocks.append(Block("p", line))
    return blocks_html(blocks).replace("<p class=how>", "<p>")


def figures_html(figs: Mapping[str, Path]) -> list[str]:
    """The written figures (``all_figures``), inlined under their titles in registry order."""
    return [f"<h2>Figure: {esc(fig.title)}</h2><img src='{png_data_url(figs[name])}' alt=''>"
            for name, fig in FIGURES.items() if name in figs]


def image_data_url(path: Path | str, size: int = THUMB_PX) -> str:
    """A PNG data URL of the image at ``path``, downscaled to fit ``size`` x ``size``."""
    with Image.open(path) as src:
        im = src.convert("RGB")
    im.thumbnail((size, size))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def png_data_url(path: Path) -> str:
    """The PNG file at ``path`` as a data URL, unchanged."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


def _img(path: object) -> str:
    try:
        return f"<img src='{image_data_url(str(path))}' alt='' width=192>"
    except (OSError, ValueError) as e:  # a missing image must not cost the rest of the report
        log.warning("report image %s not embedded: %s", path, e)
        return f"<p class=bad>(image not available: {esc(Path(str(path)).name)})</p>"


def _answer(text: object, ok: object) -> str:
    mark = "<span class=ok>✔ correct</span>" if ok else "<span class=bad>✘ wrong</span>"
    return f"{mark} <code>{esc(text, MAX_ANSWER_CHARS)}</code>"


def check_grid(rows: Sequence[dict[str, Any]]) -> None:
    """Raise DataError naming the first image-grid row that lacks a required key."""
    for i, r in enumerate(rows):
        missing = [k for k in GRID_KEYS if k not in r]
        if missing:
            raise DataError(f"image grid row {i} lacks {', '.join(missing)}")


def grid_html(rows: Sequence[dict[str, Any]]) -> str:
    """Rows of clean vs stressed image with the question, options, truth and both answers."""
    if not rows:
        return ""
    out = ["<h2>Clean vs stressed, with the model's answers</h2>", "<table class=grid>",
           "<tr><th>clean twin</th><th>stressed</th><th>question</th></tr>"]
    check_grid(rows)
    for r in rows:
        opts = "<br>".join(esc(f"{chr(65 + j)}. {o}", 200) for j, o in enumerate(list(r.get("options", []))[:26]))
        out.append(f"<tr><td>{_img(r['clean_image'])}<br>{_answer(r['clean_answer'], r['clean_correct'])}</td>"
                   f"<td>{_img(r['stressed_image'])}<br><b>{esc(r['label'], 200)}</b><br>"
                   f"{_answer(r['stressed_answer'], r['stressed_correct'])}</td>"
                   f"<td><b>{esc(r['question'])}</b><br>{opts}<br>truth: {esc(r.get('truth'), 200)}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def unparsable_html(preds: Sequence[Any], n: int = 5) -> str:
    """A few unparsable raw answers (escaped, truncated): what the parser could not read."""
    bad = [p for p in preds if getattr(p, "parse_error", None) and not getattr(p, "error", None)][:n]
    if not bad:
        return ""
    rows = "".join(f"<tr><td>{esc(p.item_id, 200)}</td><td><code>{esc(p.raw, MAX_ANSWER_CHARS)}</code></td>"
                   f"<td>{esc(p.parse_error, 200)}</td></tr>" for p in bad)
    return (f"<h2>Unparsable answers (first {len(bad)})</h2><table class=grid><tr><th>item</th>"
            f"<th>raw answer</th><th>why</th></tr>{rows}</table>")


def page(title: str, parts: Sequence[str]) -> str:
    """The complete HTML document."""
    return (f"<!doctype html><html lang=en><head><meta charset='utf-8'><title>{esc(title)}</title>"
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>")
