"""Prompt templates. Any change to the text sent to models must bump PROMPT_VERSION."""

from __future__ import annotations

from robostress.questions.item import LETTERS

PROMPT_VERSION = "p1"

MC_INSTRUCTION = "Answer with the letter of the correct option only."
BOX_INSTRUCTION = ("Answer with the bounding box as x1,y1,x2,y2 in permille of the image width and "
                   "height (integers from 0 to 1000, origin at the top-left corner).")
POINT_INSTRUCTION = ("Answer with one point as x,y in permille of the image width and height "
                     "(integers from 0 to 1000, origin at the top-left corner).")


def mc_prompt(question: str, options: tuple[str, ...]) -> str:
    """Question, lettered options, and the answer instruction."""
    lines = [question] + [f"{LETTERS[i]}. {o}" for i, o in enumerate(options)] + [MC_INSTRUCTION]
    return "\n".join(lines)


def box_prompt(question: str) -> str:
    """A box-grounding prompt."""
    return f"{question}\n{BOX_INSTRUCTION}"


def point_prompt(question: str) -> str:
    """A point-grounding prompt."""
    return f"{question}\n{POINT_INSTRUCTION}"
