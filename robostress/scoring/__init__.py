"""Strict answer parsing and scoring (exact option, box IoU, point in mask)."""

from robostress.scoring.parse import Parsed, parse_box, parse_choice, parse_point
from robostress.scoring.prediction import Prediction
from robostress.scoring.score import ScoreResult, chance, iou, point_in_mask, score

__all__ = ["Parsed", "Prediction", "ScoreResult", "chance", "iou", "parse_box", "parse_choice",
           "parse_point", "point_in_mask", "score"]
