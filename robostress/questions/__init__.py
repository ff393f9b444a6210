"""Embodied questions (six abilities) with exact truth, paired across clean/stressed twins."""

from robostress.questions.base import QUESTION_TYPES, Drop, FrameContext, QuestionSpec, QuestionType
from robostress.questions.generate import generate_items, plan_questions, realise
from robostress.questions.item import ABILITIES, LETTERS, DroppedItem, Item
from robostress.questions.templates import PROMPT_VERSION

__all__ = ["ABILITIES", "LETTERS", "PROMPT_VERSION", "QUESTION_TYPES", "Drop", "DroppedItem", "FrameContext",
           "Item", "QuestionSpec", "QuestionType", "generate_items", "plan_questions", "realise"]
