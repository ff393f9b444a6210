"""Interoperability with other benchmarks' formats: RoboStressBench datasets and scoring."""

from robostress.interop.robostressbench import RsbDataset, Sample, read_manifest_rows, tag_dimension
from robostress.interop.rsb_eval import RsbRunner, evaluate_rsb
from robostress.interop.rsb_scoring import (
           exact_iou,
           point_hit,
           score_rsb,
           submission,
           summarize_rsb,
)

__all__ = ["RsbDataset", "RsbRunner", "Sample", "evaluate_rsb", "exact_iou", "point_hit", "read_manifest_rows",
           "score_rsb", "submission", "summarize_rsb", "tag_dimension"]
