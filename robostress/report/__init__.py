"""Reports of a run: summary.json, report.md, figures and a self-contained report.html, all built
from the typed ``robostress.metrics.Summary``; figures and sections are registered once
(``FIGURES``, ``SECTIONS``)."""

from robostress.report.figures import FIGURES, Figure, all_figures
from robostress.report.markdown import to_markdown
from robostress.report.sections import ablation_section, agent_section, environment_section
from robostress.report.tables import SECTIONS, Section
from robostress.report.write import write_report

__all__ = ["FIGURES", "SECTIONS", "Figure", "Section", "ablation_section", "agent_section", "all_figures",
           "environment_section",
           "to_markdown", "write_report"]
