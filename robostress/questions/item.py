"""Items: one question about one frame, with its exact truth (what ``items.jsonl`` holds)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from robostress.core.records import Frozen, OmitNone

ITEM_SCHEMA_VERSION = 1
ABILITIES: tuple[str, ...] = (
    "recognition", "spatial", "state", "planning", "target_grounding", "placement_grounding",
)
Ability = Literal[
    "recognition", "spatial", "state", "planning", "target_grounding", "placement_grounding",
]
Format = Literal["mc", "box", "point"]
LETTERS = "ABCDEFGH"


class Item(OmitNone):
    """A question about one frame. Stressed items point at their clean twin item; compound items
    also at their two single-factor twin items."""

    omit_if_none: ClassVar[tuple[str, ...]] = ("factor_item_ids",)

    schema_version: int = ITEM_SCHEMA_VERSION
    item_id: str = Field(description="unique id: f'{frame_id}/{key}'")
    key: str = Field(description="question key, identical for an item and its clean twin")
    frame_id: str
    scene_id: str
    clean_item_id: str = Field(description="id of the clean twin item (itself when clean)")
    factor_item_ids: tuple[str, str] | None = Field(
        default=None, description="a compound item's single-factor twin items, in taxonomy order (None: not compound)")
    image: str = Field(description="image path relative to the benchmark root")
    dimension: str = Field(description="stress dimension of the frame ('none' when clean)")
    subtype: str = Field(description="stress sub-type of the frame ('none' when clean)")
    severity: int = Field(ge=0, le=5)
    ability: Ability
    qtype: str = Field(description="question type within the ability, e.g. 'color', 'left_of'")
    format: Format
    question: str = Field(description="the question without options or answer instructions")
    prompt: str = Field(description="full text sent to a model (question, options, answer format)")
    options: tuple[str, ...] = Field(default=(), description="option texts, labelled A, B, ... in order")
    answer: str | None = Field(default=None, description="correct letter for multiple choice")
    truth: dict[str, Any] = Field(default_factory=dict,
                                  description="format-specific truth: box (permille), mask ref, ...")
    prompt_version: str


class DroppedItem(Frozen):
    """A question that was not asked of a frame, and why (e.g. the stress made it undefined)."""

    frame_id: str
    key: str
    reason: str
