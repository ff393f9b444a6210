"""report.md: the report's blocks as GitHub-flavoured Markdown."""

from __future__ import annotations

from collections.abc import Mapping

from robostress.metrics.records import Summary
from robostress.report.figures import shown_figures
from robostress.report.tables import Block, build_blocks


def _cell(text: str) -> str:
    """A table cell: a '|' in a label must not split the row, newlines must not end it."""
    return text.replace("|", "\\|").replace("\n", " ")


def render_blocks(blocks: list[Block]) -> list[str]:
    """Markdown lines of ``blocks`` (each block followed by a blank line)."""
    out: list[str] = []
    for b in blocks:
        if b.kind == "h1":
            out.append(f"# {b.text}")
        elif b.kind == "h2":
            out.append(f"## {b.text}")
        elif b.kind == "p":
            out.append(b.text)
        elif b.kind == "ul":
            out += [f"- {it}" for it in b.items]
        elif b.kind == "table":
            out.append("| " + " | ".join(_cell(h) for h in b.header) + " |")
            out.append("|" + "---|" * len(b.header))
            out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in b.rows]
        else:
            raise ValueError(f"unknown block kind {b.kind!r}")
        out.append("")
    return out


def to_markdown(summary: Summary, title: str, extra_rows: Mapping[str, Summary] | None = None,
                extra_sections: list[str] | None = None) -> str:
    """The whole report as Markdown.

    Args:
        summary: the output of ``robostress.metrics.summarize``.
        title: the report's title.
        extra_rows: label -> summary of another run, shown side by side (e.g. 'oracle', 'random').
        extra_sections: Markdown sections appended verbatim (e.g. the agent's paired gains).
    """
    lines = render_blocks(build_blocks(summary, title, extra_rows))
    for sec in extra_sections or []:
        lines += [sec.rstrip("\n"), ""]
    if summary.n_pairs:
        lines += ["Figures: " + ", ".join(f"`figures/{f}.png`" for f in shown_figures(summary)) + ".", ""]
    return "\n".join(lines)
