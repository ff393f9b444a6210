"""write_report: summary.json, report.md, figures/*.png and a self-contained report.html."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from robostress.errors import DataError
from robostress.metrics.records import Summary
from robostress.render.io import write_atomic
from robostress.report import html as H
from robostress.report.figures import all_figures
from robostress.report.markdown import to_markdown
from robostress.report.tables import build_blocks


def _finite(x: Any) -> Any:
    """NaN/inf are not JSON; a summary should never hold them, so refuse rather than write them."""
    if isinstance(x, float) and not math.isfinite(x):
        raise DataError("summary holds a non-finite number; refusing to write invalid JSON")
    if isinstance(x, dict):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x


def write_report(run_dir: Path, summary: Summary, preds: Sequence[Any], *, title: str,
                 image_grid: list[dict[str, Any]] | None = None,
                 extra_rows: Mapping[str, Summary] | None = None,
                 extra_sections: list[str] | None = None, notice: str | None = None) -> dict[str, Path]:
    """Write the report of one run into ``run_dir``.

    Args:
        run_dir: the run directory (created if needed).
        summary: the output of ``robostress.metrics.summarize`` (written as summary.json).
        preds: the run's predictions (a few unparsable answers are shown in the HTML).
        title: the report's title.
        image_grid: rows of clean vs stressed images with the question and both answers; keys
            question, options, truth, clean_image, stressed_image, clean_answer, stressed_answer,
            clean_correct, stressed_correct, label.
        extra_rows: label -> summary of another run for the side-by-side table.
        extra_sections: Markdown sections appended to both report.md and report.html.
        notice: a warning put at the top of both reports (e.g. the benchmark is damaged).

    Returns:
        Paths by name: summary, md, html, and figure_<name> for each figure.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    files = {"summary": run_dir / "summary.json", "md": run_dir / "report.md", "html": run_dir / "report.html"}
    write_atomic(files["summary"], json.dumps(_finite(summary.to_dict()), indent=1, sort_keys=True,
                                              allow_nan=False).encode())
    top = f"> **Warning:** {notice}\n\n" if notice else ""
    write_atomic(files["md"], (top + to_markdown(summary, title, extra_rows, extra_sections)).encode())
    H.check_grid(image_grid or [])  # before the slow part; summary.json and report.md are kept
    figs = all_figures(summary, run_dir / "figures")
    parts = [f"<p class=bad><strong>Warning:</strong> {H.esc(notice)}</p>"] if notice else []
    parts += [H.blocks_html(build_blocks(summary, title, extra_rows))]
    parts += [H.markdown_html(sec) for sec in extra_sections or []]
    parts += H.figures_html(figs)
    parts += [H.grid_html(image_grid or []), H.unparsable_html(list(preds))]
    write_atomic(files["html"], H.page(title, parts).encode())
    return {**files, **{f"figure_{k}": v for k, v in figs.items()}}
