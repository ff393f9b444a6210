"""Interoperability with other benchmarks' formats: RoboStressBench datasets, scoring and export."""

from robostress.interop.robostressbench import RsbDataset, Sample, read_samples, rsb_prompt
from robostress.interop.rsb_eval import evaluate_rsb
from robostress.interop.rsb_export import export_rsb
from robostress.interop.rsb_scoring import (
           compute_metrics,
           float_iou,
           parse_lenient,
           parse_strict,
           rsb_scorer,
           submission,
           summarize,
)
from robostress.interop.rsb_taxonomy import ROBOSTRESS_TO_RSB, RSB_TO_ROBOSTRESS

__all__ = ["ROBOSTRESS_TO_RSB", "RSB_TO_ROBOSTRESS", "RsbDataset", "Sample", "compute_metrics", "evaluate_rsb",
           "export_rsb", "float_iou", "parse_lenient", "parse_strict", "read_samples", "rsb_prompt", "rsb_scorer",
           "submission", "summarize"]
