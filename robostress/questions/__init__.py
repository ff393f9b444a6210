"""Embodied questions (six abilities) with exact truth, paired across clean/stressed twins."""

from robostress.questions.generate import QuestionSpec, generate_items, plan_questions, realise
from robostress.questions.item import ABILITIES, LETTERS, DroppedItem, Item
from robostress.questions.templates import PROMPT_VERSION

__all__ = ["ABILITIES", "LETTERS", "PROMPT_VERSION", "DroppedItem", "Item", "QuestionSpec",
           "generate_items", "plan_questions", "realise"]
