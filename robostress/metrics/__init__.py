"""Robustness metrics: Wilson intervals, paired drops and flips, breaking points, CE, summaries."""

from robostress.metrics.paired import compare, curve, pairs
from robostress.metrics.stats import (
    Estimate,
    breaking_point,
    corruption_error,
    mean_defined,
    paired_bootstrap,
    relative_robustness,
    wilson,
)
from robostress.metrics.summary import SUMMARY_SCHEMA_VERSION, cell, group, summarize

__all__ = ["SUMMARY_SCHEMA_VERSION", "Estimate", "breaking_point", "cell", "compare", "corruption_error",
           "curve", "group", "mean_defined", "paired_bootstrap", "pairs", "relative_robustness",
           "summarize", "wilson"]
