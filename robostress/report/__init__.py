"""Reports: summary.json, report.md, figures and a self-contained report.html."""

from robostress.report.write import markdown, write_report

__all__ = ["markdown", "write_report"]
