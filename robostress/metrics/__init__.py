"""Robustness metrics: Wilson intervals, paired drops and flips, CE, breaking points."""

from robostress.metrics.stats import breaking_point, corruption_error, paired_bootstrap, wilson
from robostress.metrics.summary import cell, compare, group, pairs, summarize

__all__ = ["breaking_point", "cell", "compare", "corruption_error", "group", "paired_bootstrap",
           "pairs", "summarize", "wilson"]
