"""The learned text-only attacker (``robostress.evaluate.text_learner``): it finds a leak planted
in the words and stays at chance where the words say nothing."""

from __future__ import annotations

import numpy as np

from robostress.evaluate.text_learner import clustered_se, format_learned, learned_rows
from robostress.questions.item import LETTERS, Item

WORDS = ("mug", "bowl", "plate", "cup", "box", "can", "book", "pan")


def item(k: int, qtype: str, options: tuple[str, ...], answer: int) -> Item:
    return Item(item_id=f"s{k // 3}/clean/{qtype}/{k}", key=f"{qtype}/{k}", frame_id=f"s{k // 3}/clean",
                scene_id=f"s{k // 3}", clean_item_id=f"s{k // 3}/clean/{qtype}/{k}", image="i.png", dimension="none",
                subtype="none", severity=0, ability="recognition", qtype=qtype, format="mc",
                question="What kind of object is the red one?", prompt="p", options=options,
                answer=LETTERS[answer], truth={"option": options[answer]}, prompt_version="p7")


def items(n: int, offset: int, seed: int) -> list[Item]:
    """'leaky': the truth is 'mug' whenever offered; 'fair': the truth is uniform over the options."""
    g = np.random.default_rng(seed)
    out = []
    for k in range(offset, offset + n):
        opts = tuple(str(w) for w in g.choice(WORDS, 4, replace=False))
        right = opts.index("mug") if "mug" in opts else int(g.integers(4))
        out.append(item(k, "leaky", opts, right))
        out.append(item(k, "fair", opts, int(g.integers(4))))
    return out


def test_the_learner_finds_a_planted_leak_and_not_a_missing_one() -> None:
    rows = {r.qtype: r for r in learned_rows(items(300, 0, 0), items(300, 1000, 1))}
    leaky, fair = rows["leaky"], rows["fair"]
    assert leaky.n == fair.n == 300 and leaky.chance == fair.chance == 0.25
    # 'mug' is offered in half the items: right there, chance elsewhere -> about 62 %
    assert leaky.margin > 0.25 and leaky.margin > 5 * leaky.se
    assert abs(fair.margin) < 3 * fair.se + 0.02
    table = format_learned(rows.values())
    assert f"| leaky | 300 | {leaky.scenes} | 25.0 |" in table and " ± " in table


def test_clustered_standard_error() -> None:
    v = np.array([1.0, 0.0, 1.0, 0.0])
    assert clustered_se(v, ["a", "b", "c", "d"]) == np.std(v, ddof=1) / 2  # one item a scene: the usual SE
    assert clustered_se(v, ["a", "a", "b", "b"]) == 0.0  # each scene's mean is the overall mean
