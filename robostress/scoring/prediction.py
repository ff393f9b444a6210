"""Prediction records: one line of ``predictions.jsonl`` per item."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from robostress.core.records import OmitNone
from robostress.questions.item import Item
from robostress.scoring.score import ScoreResult

PREDICTION_SCHEMA_VERSION = 1


class Prediction(OmitNone):
    """A model's answer to one item, parsed and scored."""

    omit_if_none: ClassVar[tuple[str, ...]] = ("factor_item_ids",)

    schema_version: int = PREDICTION_SCHEMA_VERSION
    item_id: str
    clean_item_id: str
    factor_item_ids: tuple[str, str] | None = Field(
        default=None, description="a compound item's single-factor twin items (None: not compound)")
    frame_id: str
    scene_id: str
    dimension: str
    subtype: str
    severity: int
    ability: str
    qtype: str
    format: str
    raw: str = Field(description="the model's raw text (untrusted)")
    parsed: Any = Field(default=None, description="parsed answer: letter, box or point; None if unparsable")
    parse_error: str | None = Field(default=None, description="why the raw text could not be parsed")
    score: float = Field(description="1/0 for multiple choice and point-in-mask; IoU for boxes")
    correct: bool = Field(description="score counted as a success (IoU >= 0.5 for boxes)")
    chance: float = Field(description="probability that a uniformly random answer is correct")
    details: dict[str, Any] = Field(default_factory=dict, description="e.g. iou, point_in_mask")
    latency_s: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = Field(default=None, description="backend error: no answer was obtained")
    agent_trace: list[dict[str, Any]] | None = None
    model: str = Field(description="model label of the run")

    @classmethod
    def from_answer(cls, item: Item, raw: str, scored: ScoreResult, *, model: str, error: str | None = None,
                    latency_s: float = 0.0, prompt_tokens: int | None = None, completion_tokens: int | None = None,
                    agent_trace: list[dict[str, Any]] | None = None) -> Prediction:
        """The prediction of ``item`` from a bounded reply ``raw`` and its score.

        A backend ``error`` means no answer was had: it scores 0 and is not correct, and the
        parse error is dropped (there was nothing to parse).
        """
        return cls(
            item_id=item.item_id, clean_item_id=item.clean_item_id, factor_item_ids=item.factor_item_ids,
            frame_id=item.frame_id,
            scene_id=item.scene_id, dimension=item.dimension, subtype=item.subtype,
            severity=item.severity, ability=item.ability, qtype=item.qtype, format=item.format,
            raw=raw, parsed=scored.parsed, parse_error=None if error else scored.parse_error,
            score=0.0 if error else float(scored.score), correct=False if error else bool(scored.correct),
            chance=float(scored.chance), details=dict(scored.details), latency_s=round(float(latency_s), 4),
            prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, error=error,
            agent_trace=agent_trace, model=model)
