"""The main job's Markdown sections (agent gains, skill ablations) match the text the main job
wrote inline before they moved into robostress.report (golden captured from that code)."""

from __future__ import annotations

from pathlib import Path

from robostress.metrics import compare
from robostress.report.sections import ablation_section, agent_section
from tests.metrics.synthetic import synthetic

GOLDEN = Path(__file__).parent / "golden" / "main_job_sections.md"


def test_sections_match_the_golden() -> None:
    base = synthetic()
    fixed = [p.model_copy(update={"correct": True, "model": "agent",
                                  "agent_trace": [{}, {"skill": "brighten", "applied": i % 3 == 0}]})
             if p.dimension == "lighting" and p.severity >= 3 else p.model_copy(update={"model": "agent"})
             for i, p in enumerate(base)]
    hurt = [p.model_copy(update={"correct": False, "model": "agent"}) if p.dimension == "viewpoint"
            else p.model_copy(update={"model": "agent"}) for p in base]
    c1, c2 = compare(base, fixed, resamples=200), compare(base, hurt, resamples=200)
    c3 = compare([p for p in base if p.dimension != "viewpoint"],
                 [p for p in fixed if p.dimension != "viewpoint"], resamples=200)  # no viewpoint column: 0
    text = "\n\n".join([agent_section("m+agent", c1, fixed), agent_section("m+bad", c2, hurt),
                        ablation_section([("brighten", c1), ("zoom", c2), ("light-only", c3)]),
                        ablation_section([])])
    assert text + "\n" == GOLDEN.read_text()
