"""Interoperability with other benchmarks' formats: RoboStressBench datasets and scoring."""

from robostress.interop.robostressbench import RsbDataset, Sample, read_manifest_rows, tag_dimension
from robostress.interop.rsb_eval import evaluate_rsb, rsb_scorer
from robostress.interop.rsb_scoring import (
           exact_iou,
           point_hit,
           score_rsb,
           submission,
           summarize_rsb,
)

__all__ = ["RsbDataset", "Sample", "evaluate_rsb", "exact_iou", "point_hit", "read_manifest_rows", "rsb_scorer",
           "score_rsb", "submission", "summarize_rsb", "tag_dimension"]
