"""Every text a model sees: question templates, option phrases and answer instructions.

Any change to a string in this module changes prompts, so it must bump ``PROMPT_VERSION``
(the golden snapshots in ``tests/questions/golden/`` fail until they are regenerated on purpose
with ``ROBOSTRESS_UPDATE_GOLDEN=1``). A new question type's strings, which leave every existing
prompt as it was, bump the question generator (``GENERATOR_VERSION`` in
``robostress.benchmark.build``) instead: the builds that ask the new type change, the others
stay byte for byte what they were (g10's ``open_closed`` and ``open_first``).
"""

from __future__ import annotations

from robostress.errors import ConfigError
from robostress.questions.item import LETTERS

PROMPT_VERSION = "p7"  # p7: placement relative to named objects; p6: 'resting on or in' (objects inside containers); p5: colour of real objects asked by a point; p4: category_at (objects named by a point); p3: balanced truths

MC_INSTRUCTION = "Answer with the letter of the correct option only."
BOX_INSTRUCTION = ("Answer with the bounding box as x1,y1,x2,y2 in permille of the image width and "
                   "height (integers from 0 to 1000, origin at the top-left corner).")
POINT_INSTRUCTION = ("Answer with one point as x,y in permille of the image width and height "
                     "(integers from 0 to 1000, origin at the top-left corner).")

QUESTIONS: dict[str, str] = {
    # recognition
    "category": "What kind of object is the {colour} one?",
    "category_at": "What kind of object is at the point ({x}, {y}) in permille of the image width and height?",
    "color": "What colour is the {category}?",
    "color_at": "What colour is the object at the point ({x}, {y}) in permille of the image width and height?",
    "count": "How many {plural} are on the {support}?",
    "existence": "Is there {a_colour} {category} on the {support}?",
    # spatial (left/right and order are in the image; 'closer' is distance to the camera)
    "left_right": "In the image, is {a} to the left or to the right of {b}?",
    "front_behind": "Which is closer to the camera: {a} or {b}?",
    "on": "What is {a} resting on or in?",
    "nearest": "Which of these objects is closest to {ref}?",
    "ordering": "In what order do {a}, {b} and {c} appear from left to right in the image?",
    # state
    "upright": "Is {a} standing upright or lying on its side?",
    "clear": "Is anything resting on top of {a}?",
    "goal": "The task is: {a} must rest directly on {dest}. Is the task already done?",
    "open_closed": "Is {part} open or closed?",
    # planning
    "next_action": "The robot must put {a} on {dest}. What should it do next?",
    "move_first": "The robot wants to pick up {a}. What must it move first?",
    "open_first": "The robot must put {a} in {place}. What must it do first?",
    # grounding
    "box": "Give the bounding box of {a}.",
    "point": "Point to {a}.",
    "placement": "Point to a free spot on the {support} {where}, where the robot could put {y} down.",
}
PLACEMENT_WHERE: dict[str, str] = {  # the relation of a placement question (robostress.questions.region)
    "left": "just to the left of {x} in the image",
    "right": "just to the right of {x} in the image",
    "front": "just in front of {x} (closer to the camera)",
    "behind": "just behind {x} (farther from the camera)",
    "between": "between {x} and {z}",
}

YES, NO = "yes", "no"
LEFT, RIGHT = "to the left", "to the right"
UPRIGHT, TIPPED = "standing upright", "lying on its side"
DONE = "the task is already done"
NOTHING_FIRST = "nothing, it can be picked up directly"
OPEN, CLOSED = "open", "closed"
# what an articulated object opens (its catalog entry's ``part``): the part a state question names,
# and where a planning question puts something (into the drawer; into the fridge, behind its door)
PART: dict[str, str] = {"top drawer": "the top drawer of {x}", "door": "the door of {x}"}
PUT_IN: dict[str, str] = {"top drawer": "the top drawer of {x}", "door": "{x}"}


def question(qtype: str, **fields: str) -> str:
    """The question text of ``qtype`` with its fields filled in."""
    try:
        return QUESTIONS[qtype].format(**fields)
    except KeyError as e:
        raise ConfigError(f"question type {qtype!r}: no template or missing field {e}; "
                          f"templates exist for {sorted(QUESTIONS)}") from None


def indefinite(words: str) -> str:
    """'a book', 'an orange cone': a noun phrase with its indefinite article."""
    return ("an " if words[0] in "aeiou" else "a ") + words


def pick_up(name: str) -> str:
    """Option: pick up the named object."""
    return f"pick up {name}"


def place_on(name: str, dest: str) -> str:
    """Option: put the held object down."""
    return f"place {name} on {dest}"


def open_part(part: str) -> str:
    """Option: open a drawer or a door (``part``: 'the top drawer of the white cabinet')."""
    return f"open {part}"


def clear_top(name: str) -> str:
    """Option: take away what rests on the named object."""
    return f"pick up the object on top of {name} and set it aside"


def in_order(names: list[str]) -> str:
    """Option of an ordering question: names left to right."""
    return ", then ".join(names)


def mc_prompt(question_text: str, options: tuple[str, ...]) -> str:
    """Question, lettered options, and the answer instruction."""
    lines = [question_text] + [f"{LETTERS[i]}. {o}" for i, o in enumerate(options)] + [MC_INSTRUCTION]
    return "\n".join(lines)


def box_prompt(question_text: str) -> str:
    """A box-grounding prompt."""
    return f"{question_text}\n{BOX_INSTRUCTION}"


def point_prompt(question_text: str) -> str:
    """A point-grounding prompt."""
    return f"{question_text}\n{POINT_INSTRUCTION}"


PROMPTS = {"mc": mc_prompt, "box": lambda q, _: box_prompt(q), "point": lambda q, _: point_prompt(q)}


def prompt(fmt: str, question_text: str, options: tuple[str, ...], version: str = PROMPT_VERSION) -> str:
    """The full prompt of a question in answer format ``fmt`` ('mc', 'box', 'point')."""
    if version != PROMPT_VERSION:
        raise ConfigError(f"prompt version {version!r} is not available; this code writes "
                          f"prompts of version {PROMPT_VERSION!r} only")
    if fmt not in PROMPTS:
        raise ConfigError(f"unknown answer format {fmt!r}; choose one of: {', '.join(PROMPTS)}")
    return PROMPTS[fmt](question_text, options)
