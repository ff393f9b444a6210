"""The interaction section and figure of a run with compound items, and the same in `compare`
(synthetic compound runs with hand-checked values: tests/metrics/synthetic.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robostress.metrics import summarize
from robostress.report import to_markdown, write_report
from robostress.report.compare import Run, write_comparison
from robostress.report.figures import interaction_grid, shown_figures
from tests.metrics.synthetic import compound_run, synthetic


@pytest.fixture(scope="module")
def summary():  # type: ignore[no-untyped-def]
    return summarize(compound_run(), resamples=300)


def test_the_section_shows_each_pair_with_its_interval_and_flag(summary) -> None:  # type: ignore[no-untyped-def]
    md = to_markdown(summary, "compound run")
    assert "## Interaction of two factors" in md and "120 of 120 compound items have all three twins" in md
    row = next(ln for ln in md.splitlines() if ln.startswith("| lighting+viewpoint |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "60 (6 sc) †" and cells[2] == "100.0" and cells[3] == cells[4] == "+20.0"
    assert cells[5].startswith("+60.0 [") and cells[6].startswith("+20.0 [") and cells[7] == "super-additive"
    assert cells[9].startswith("+24.0 [") and cells[10] == "super-multiplicative" and cells[11] == "20.0"
    add = next(ln for ln in md.splitlines() if ln.startswith("| material+geometry |"))
    assert "| +0.0 [+0.0, +0.0] | not detected |" in add
    assert "| lighting+viewpoint/global_underexposure+small_scale |" in md
    assert "`figures/interaction.png`" in md


def test_a_run_without_compounds_has_no_section_and_no_figure() -> None:
    s = summarize(synthetic(), resamples=100)
    assert "Interaction of two factors" not in to_markdown(s, "plain")
    assert "interaction" not in shown_figures(s)


def test_the_heatmap_grid_is_symmetric_and_flags_only_excluded_intervals(summary) -> None:  # type: ignore[no-untyped-def]
    dims, add, mult, flag = interaction_grid(summary)
    assert dims == ["material", "lighting", "viewpoint", "geometry"]
    i, j = dims.index("lighting"), dims.index("viewpoint")
    assert add[i, j] == add[j, i] == pytest.approx(20.0) and mult[i, j] == pytest.approx(24.0)
    m, g = dims.index("material"), dims.index("geometry")
    assert add[m, g] == pytest.approx(0.0) and not flag[0, m, g] and flag[1, m, g] and flag[0, i, j]
    assert np.isnan(add[m, i])  # no material+lighting compound in this run


def test_write_report_writes_the_interaction_figure(summary, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = write_report(tmp_path / "run", summary, compound_run(), title="compound")
    with Image.open(files["figure_interaction"]) as im:
        assert im.format == "PNG" and im.size[0] > 300
    assert "interaction of two factors" in files["html"].read_text()
    assert "interaction" in json.loads(files["summary"].read_text())


def test_compare_shows_the_interaction_of_every_run(tmp_path: Path) -> None:
    runs = [Run(m, None, "h" * 64, p, summarize(p, resamples=200)) for m, p in
            (("a", compound_run("a")), ("b", compound_run("b")))]
    files = write_comparison(tmp_path, runs, resamples=200)
    md = files["md"].read_text()
    assert "## Interaction of two factors per model" in md
    assert sum(ln.startswith("| a | lighting+viewpoint |") or ln.startswith("| b | lighting+viewpoint |")
               for ln in md.splitlines()) == 2
    data = json.loads(files["json"].read_text())
    assert set(data["interactions"]) == {"a", "b"}
    assert data["interactions"]["a"]["by_pair"]["lighting+viewpoint"]["additive_flag"] == "super-additive"
    assert {"figure_interaction_0", "figure_interaction_1"} <= set(files)
