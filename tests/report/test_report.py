"""The report: files exist and parse, model text is escaped, figures are real PNGs, golden table."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

from robostress.metrics import summarize
from robostress.report import markdown, write_report
from tests.metrics.test_metrics import synthetic

GOLDEN = Path(__file__).parent / "golden" / "synthetic_report.md"


def test_report_files_escape_model_text(tmp_path: Path) -> None:
    preds = synthetic()
    evil = "<script>alert(1)</script>"
    preds[1] = preds[1].model_copy(update={"raw": evil})
    img = tmp_path / "x.png"
    Image.new("RGB", (32, 32), (200, 10, 10)).save(img)
    grid = [{"question": "What <b>colour</b>?", "options": ["red", "<i>blue</i>"], "truth": "A",
             "clean_image": str(img), "stressed_image": str(img), "clean_answer": "A", "stressed_answer": evil,
             "clean_correct": True, "stressed_correct": False, "label": "lighting/x s5"}]
    files = write_report(tmp_path, summarize(preds), preds, title="t <x>", image_grid=grid)
    page = files["html"].read_text()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>colour</b>" not in page and "src='http" not in page
    assert json.loads(files["summary"].read_text())["schema_version"] == 1
    for k, p in files.items():
        if k.startswith("figure_"):
            with Image.open(p) as im:
                assert im.size[0] > 200 and len(set(np.asarray(im.convert("L")).ravel().tolist())) > 10


def test_markdown_golden() -> None:
    text = markdown(summarize(synthetic()), "synthetic")
    if os.environ.get("ROBOSTRESS_UPDATE_GOLDEN") == "1" or not GOLDEN.exists():
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()
