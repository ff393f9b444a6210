"""Strict answer parsing and scoring (exact option, box IoU, point in mask)."""

from robostress.scoring.chance import (
    box_chance,
    mask_chance,
    random_boxes,
    random_letter,
    random_points,
)
from robostress.scoring.parse import MAX_BYTES, Parsed, bound, parse_box, parse_choice, parse_point
from robostress.scoring.prediction import Prediction
from robostress.scoring.score import (
    BOX_SUCCESS_IOU,
    SCORER_VERSION,
    MaskLoader,
    Scorer,
    ScoreResult,
    chance,
    iou,
    parse_answer,
    point_in_mask,
    point_pixel,
    score,
)

__all__ = ["BOX_SUCCESS_IOU", "MAX_BYTES", "SCORER_VERSION", "MaskLoader", "Parsed", "Prediction",
           "ScoreResult", "Scorer", "bound", "box_chance", "chance", "iou", "mask_chance", "parse_answer", "parse_box",
           "parse_choice", "parse_point", "point_in_mask", "point_pixel", "random_boxes", "random_letter",
           "random_points", "score"]
