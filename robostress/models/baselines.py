"""Weight-free baselines: oracle (reads the truth), random (chance), blind (text only); the
text-only ``prior`` (fitted on the train split) lives in ``robostress.models.prior``.

They run anywhere, instantly and deterministically, and anchor every report: the oracle must
score 100% on every valid item, random must sit on the chance line, and blind measures what
language priors alone achieve.
"""

from __future__ import annotations

import re

from robostress.models.base import Request
from robostress.models.weight_free import WeightFree, permille_json
from robostress.questions.item import LETTERS, Item
from robostress.scoring.chance import random_boxes, random_letter, random_points
from robostress.seeding import rng


class Oracle(WeightFree):
    """Answers the truth: a sanity check of questions, parsing and scoring."""

    name = "oracle"
    reads_one_image = True

    def answer(self, item: Item, request: Request) -> str:
        """The correct letter, box or point."""
        if item.format == "mc":
            if item.answer is None or item.answer not in LETTERS[: len(item.options)]:
                raise ValueError(f"answer {item.answer!r} is not an option letter")
            return str(item.answer)
        if item.format == "box":
            return permille_json(item.truth["box"])
        return permille_json(item.truth["point"])


class Random(WeightFree):
    """Uniform random answers, seeded per item (independent of batching and order). They come
    from the samplers of ``robostress.scoring.chance``, which also compute every item's chance."""

    name = "random"
    reads_one_image = True

    def answer(self, item: Item, request: Request) -> str:
        """A random letter, box or point."""
        g = rng(self.seed, "random", item.item_id)
        if item.format == "mc":
            return random_letter(g, len(item.options))
        if item.format == "box":
            return permille_json(random_boxes(g, 1)[0])
        return permille_json(random_points(g, 1)[0])


# Options a text-only model tends to prefer (language priors about tidy, static tabletops),
# tried in order; the first option matching the first pattern that matches anything wins:
# "no" (nothing unusual), "standing upright", resting on the furniture, the direct action,
# "to the left" (reading order), a count of "1".
BLIND_PRIORS = (r"^no$", r"^standing upright$", r"^the (table|counter|shelf)$", r"^pick up the \w+ \w+$",
                r"^to the left$", r"^1$")


class Blind(WeightFree):
    """Answers from the question text alone: a fixed prior over option texts, never the image.

    Multiple choice: the option named by ``BLIND_PRIORS``, else the alphabetically first
    option text. Boxes: the central box [350, 350, 650, 650]. Points: [500, 700], low in the
    middle, where the support usually is in a head-camera view.
    """

    name = "blind"
    reads_one_image = True

    def answer(self, item: Item, request: Request) -> str:
        """The prior's favourite option, a central box, or a point low in the middle."""
        if item.format == "mc":
            for pat in BLIND_PRIORS:
                for i, o in enumerate(item.options):
                    if re.match(pat, o):
                        return LETTERS[i]
            return LETTERS[min(range(len(item.options)), key=lambda i: item.options[i])]
        if item.format == "box":
            return permille_json([350, 350, 650, 650])
        return permille_json([500, 700])
