"""The report: files parse, all untrusted text is escaped, images are inlined and bounded,
figures are real PNGs, and report.md's tables match a golden snapshot."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robostress.errors import DataError
from robostress.metrics import summarize
from robostress.report import to_markdown, write_report
from tests.metrics.synthetic import reference, synthetic

GOLDEN = Path(__file__).parent / "golden" / "synthetic_report.md"
EVIL = "<script>alert(1)</script>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _image(path: Path, size: tuple[int, int]) -> Path:
    g = np.random.default_rng(0)
    Image.fromarray(g.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def _grid(tmp: Path) -> list[dict]:
    img = _image(tmp / "big.png", (600, 400))
    return [{"question": "What <b>colour</b> is the mug?", "options": ["red", "<i>blue</i>"], "truth": "A",
             "clean_image": str(img), "stressed_image": str(img), "clean_answer": "A", "stressed_answer": EVIL,
             "clean_correct": True, "stressed_correct": False, "label": "lighting/global_underexposure s5"},
            {"question": "q", "options": [], "truth": "B", "clean_image": str(tmp / "missing.png"),
             "stressed_image": str(img), "clean_answer": "B", "stressed_answer": "C", "clean_correct": True,
             "stressed_correct": False, "label": "x"}]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("report")
    preds = synthetic()
    s = summarize(preds, reference=reference())
    rows = {"m": s, "<img src=x onerror=alert(1)>": summarize(reference())}
    return write_report(tmp / "run", s, preds, title="run <x>", image_grid=_grid(tmp), extra_rows=rows,
                        extra_sections=[f"## Agent\n\n| a | b |\n|---|---|\n| **bold** | {EVIL} |"])


def test_files_exist_and_summary_parses(report: dict[str, Path]) -> None:
    data = json.loads(report["summary"].read_text())
    assert data["schema_version"] == 3 and data["worst_dimension"]["dimension"] == "lighting"
    assert {"md", "html", "figure_heatmap", "figure_severity_curves", "figure_ability_curves",
            "figure_flips"} <= set(report)


def test_html_escapes_every_untrusted_text(report: dict[str, Path]) -> None:
    page = report["html"].read_text()
    assert EVIL not in page and EVIL_ESCAPED in page  # the grid answer, the unparsable answer, the section
    assert page.count(EVIL_ESCAPED) >= 3
    assert "<b>colour</b>" not in page and "&lt;b&gt;colour&lt;/b&gt;" in page
    assert "<i>blue</i>" not in page and "<x>" not in page and "onerror=alert(1)>" not in page
    assert "<script" not in page.lower() and "<b>bold</b>" in page
    assert not re.search(r"<[a-z]+[^>]*\s(src|href)=(?!['\"]?data:)", page)  # nothing loaded from outside
    assert "image not available: missing.png" in page


def test_html_inlines_bounded_images(report: dict[str, Path]) -> None:
    page = report["html"].read_text()
    urls = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(urls) == 4 + 3  # four figures, three grid images (one is missing)
    sizes = [Image.open(io.BytesIO(base64.b64decode(u))).size for u in urls]
    assert sum(max(s) <= 256 for s in sizes) == 3 and (256, 171) in sizes


def test_figures_are_real_pngs(report: dict[str, Path]) -> None:
    for name, path in report.items():
        if not name.startswith("figure_"):
            continue
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            grey = np.asarray(im.convert("L"))
        assert min(grey.shape) > 200 and len(np.unique(grey)) > 50 and grey.std() > 20, name


def test_grid_row_without_a_required_key_is_refused(tmp_path: Path) -> None:
    preds = synthetic()
    with pytest.raises(DataError, match="lacks stressed_answer"):
        write_report(tmp_path, summarize(preds), preds, title="t",
                     image_grid=[{k: v for k, v in _grid(tmp_path)[0].items() if k != "stressed_answer"}])


def test_clean_only_run_writes_a_report_without_figures(tmp_path: Path) -> None:
    preds = [p for p in synthetic() if p.severity == 0]
    files = write_report(tmp_path, summarize(preds), preds, title="clean only")
    assert not any(k.startswith("figure_") for k in files) and "## Per ability" in files["md"].read_text()


def test_markdown_table_cells_cannot_break_rows() -> None:
    s = summarize(synthetic())
    md = to_markdown(s, "t", extra_rows={"a|b": s})
    assert "| a\\|b |" in md


def test_every_estimate_cell_shows_its_interval_n_and_scenes() -> None:
    """Each accuracy or drop cell reads 'value [lo, hi] (n N, S sc)'; paired tables carry the MDD."""
    s = summarize(synthetic(), reference=reference())
    md = to_markdown(s, "t", extra_rows={"m": s})
    cell = re.compile(r"[+-]?\d+\.\d \[[+-]?\d+\.\d, [+-]?\d+\.\d\] \((n \d+|\d+ twins), \d+ sc\)")
    for table in ("Per dimension", "Accuracy % [95% CI] per sub-type", "Per ability", "Per cell",
                  "Models side by side", "Accuracy against chance"):
        block = md.split(f"## {table}", 1)[1].split("\n## ", 1)[0]
        rows = [r for r in block.splitlines() if r.startswith("| ") and not r.startswith("| dimension |")][1:]
        assert rows and all(cell.search(r) for r in rows), table
    assert md.count("MDD pp") == 4 and "2.80 x the scene-level bootstrap standard error" in md
    assert "| lighting/global_underexposure/3/recognition | 40.0 [" in md


def test_markdown_golden() -> None:
    """report.md of the synthetic run; regenerate on purpose with ROBOSTRESS_UPDATE_GOLDEN=1."""
    s = summarize(synthetic(), reference=reference())
    text = to_markdown(s, "synthetic", extra_rows={"m": s, "reference": summarize(reference())})
    if os.environ.get("ROBOSTRESS_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text)
    assert GOLDEN.exists(), f"{GOLDEN} is missing; create it with ROBOSTRESS_UPDATE_GOLDEN=1"
    assert text == GOLDEN.read_text(), "report.md changed; if on purpose, rerun with ROBOSTRESS_UPDATE_GOLDEN=1"
