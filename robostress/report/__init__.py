"""Reports of a run: summary.json, report.md, figures and a self-contained report.html."""

from robostress.report.figures import all_figures
from robostress.report.markdown import to_markdown
from robostress.report.write import write_report

__all__ = ["all_figures", "to_markdown", "write_report"]
