"""Strict answer parsing and scoring (exact option, box IoU, point in mask)."""

from robostress.scoring.parse import MAX_BYTES, Parsed, bound, parse_box, parse_choice, parse_point
from robostress.scoring.prediction import Prediction
from robostress.scoring.score import (
    BOX_SUCCESS_IOU,
    SCORER_VERSION,
    MaskLoader,
    ScoreResult,
    chance,
    iou,
    parse_answer,
    point_in_mask,
    point_pixel,
    score,
)

__all__ = ["BOX_SUCCESS_IOU", "MAX_BYTES", "SCORER_VERSION", "MaskLoader", "Parsed", "Prediction",
           "ScoreResult", "bound", "chance", "iou", "parse_answer", "parse_box", "parse_choice",
           "parse_point", "point_in_mask", "point_pixel", "score"]
