"""Weight-free baselines: oracle, random, blind and classical.

Synthetic items test each contract exactly (oracle 100 %, random on chance and independent of
batching, blind and classical never reading the truth, classical degrading with exposure);
the rendered tiny benchmark checks the same through the real runner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from robostress.benchmark.load import Benchmark
from robostress.errors import ConfigError
from robostress.evaluate.runner import Runner, request_for
from robostress.metrics.stats import chance_band, wilson
from robostress.models.base import Request, create_model
from robostress.models.classical import Classical, mentions
from robostress.questions.item import LETTERS, Item
from robostress.render.io import encode_rgb, encode_u16, read_u16, write_atomic
from robostress.scoring import parse_answer, score
from robostress.seeding import rng

W = 128
COLOURS = {"red": (200, 25, 20), "green": (40, 170, 45), "blue": (35, 60, 200), "yellow": (210, 180, 20),
           "purple": (130, 40, 170), "cyan": (30, 160, 170)}


def item(key: str, fmt: str, question: str = "q", options: tuple[str, ...] = (), answer: str | None = None,
         **truth: Any) -> Item:
    """A synthetic item of frame 'img' (its image is img.png)."""
    ability = {"mc": "recognition", "box": "target_grounding", "point": "target_grounding"}[fmt]
    return Item(item_id=f"img/{key}", key=key, frame_id="img", scene_id="s", clean_item_id=f"img/{key}",
                image="img.png", dimension="none", subtype="none", severity=0, ability=ability,  # type: ignore[arg-type]
                qtype=key.split("/")[0], format=fmt, question=question, prompt=question,  # type: ignore[arg-type]
                options=options, answer=answer, truth=truth, prompt_version="p1")


def ask(model: Any, items: list[Item], image: str = "none.png") -> list[str]:
    """Replies of a model to items sharing one image."""
    return [r.text for r in model.generate([Request(id=i.item_id, prompt=i.prompt, images=(image,), item=i)
                                            for i in items])]


# -- oracle, random, blind ------------------------------------------------------------------------
def test_oracle_scores_one_on_every_format(tmp_path: Path) -> None:
    mask = np.zeros((30, 40), np.uint16)
    mask[10:12, 5:7] = 3  # a 2 x 2 target: any rounding of the truth point would miss it
    write_atomic(tmp_path / "m.png", encode_u16(mask))
    g = rng(1, "oracle")
    items = [item(f"mc/{i}", "mc", options=tuple(f"o{j}" for j in range(n)), answer=LETTERS[int(g.integers(n))])
             for i, n in enumerate([2, 3, 4, 8] * 10)]
    items += [item("box/0", "box", box=[100.2, 100.0, 100.4, 200.0]), item("box/1", "box", box=[0, 0, 1000, 1000])]
    items += [item("point/0", "point", mask="m.png", instances=[3], point=[137.5, 350.0])]
    preds = [score(i, t, lambda rel: read_u16(tmp_path / rel)) for i, t in zip(items, ask(create_model("oracle"), items),
                                                                            strict=True)]
    assert all(p.correct and p.score == 1.0 and p.parse_error is None for p in preds)


def test_oracle_reports_items_without_truth() -> None:
    r = create_model("oracle").generate([Request(id="x", prompt="", item=item("box/x", "box"))])[0]
    assert r.text == "" and "lacks usable truth" in str(r.error)


def test_random_sits_on_chance_and_ignores_batching() -> None:
    g = rng(2, "answers")
    items = [item(f"mc/{i}", "mc", options=("a", "b", "c", "d"), answer=LETTERS[int(g.integers(4))])
             for i in range(2000)]
    model = create_model("random", seed=7)
    texts = ask(model, items)
    k = sum(t == i.answer for t, i in zip(texts, items, strict=True))
    lo, hi = wilson(k, len(items), z=3.0)
    assert lo <= 0.25 <= hi, k
    assert set(texts) == set("ABCD")
    order = rng(3, "order").permutation(len(items))
    shuffled = [ask(model, [items[j] for j in order[s:s + 7]]) for s in range(0, len(items), 7)]
    by_id = dict(zip((items[j].item_id for j in order), (t for batch in shuffled for t in batch), strict=True))
    assert [by_id[i.item_id] for i in items] == texts
    assert ask(create_model("random", seed=8), items[:50]) != texts[:50]  # the seed matters


def test_random_boxes_and_points_are_valid() -> None:
    items = [item(f"box/{i}", "box") for i in range(200)] + [item(f"point/{i}", "point") for i in range(200)]
    values = [parse_answer(i, t) for i, t in zip(items, ask(create_model("random"), items), strict=True)]
    assert all(v.error is None for v in values)
    assert len({tuple(v.value) for v in values}) == len(values)


def test_blind_uses_its_prior_and_nothing_else() -> None:
    qs = [item("mc/0", "mc", "Is anything resting on top of the red can?", ("yes", "no"), "A"),
          item("mc/1", "mc", "What colour is the mug?", ("red", "blue", "green", "cyan"), "C"),
          item("box/0", "box", "Give the bounding box of the red can.", box=[1, 2, 3, 4]),
          item("point/0", "point", "Point to the red can.", mask="m.png", instances=[1])]
    blind = create_model("blind")
    assert ask(blind, qs, "does-not-exist.png") == ["B", "B", "[350, 350, 650, 650]", "[500, 700]"]
    lies = [q.model_copy(update={"answer": "A", "truth": {}}) for q in qs]
    assert ask(blind, lies) == ask(blind, qs)
    assert blind.describe() == {"backend": "blind", "seed": 0, "version": "b1"}


def test_unknown_backend_and_options() -> None:
    with pytest.raises(ConfigError, match="unknown model backend 'gpt9'.*oracle"):
        create_model("gpt9")
    for name in ("random", "classical"):
        with pytest.raises(ConfigError, match="unknown option"):
            create_model(name, temperature=1.0)
    with pytest.raises(ConfigError, match="need the item"):
        create_model("oracle").generate([Request(id="x", prompt="hi")])


# -- classical on synthetic scenes --------------------------------------------------------------
def _draw(kind: str, cx: int, base: int, colour: tuple[int, int, int], img: np.ndarray) -> None:
    if kind == "ball":
        cv2.circle(img, (cx, base - 7), 7, colour, -1)
    elif kind == "cone":
        cv2.fillPoly(img, [np.array([(cx - 8, base), (cx + 8, base), (cx, base - 22)], np.int32)], colour)
    else:  # bowl: the lower half of an ellipse
        cv2.ellipse(img, (cx, base - 18), (15, 18), 0, 0, 180, colour, -1)


def synthetic_scene(seed: int, ev: float) -> tuple[np.ndarray, list[Item], np.ndarray]:
    """Three coloured shapes on a gray table, exposed by 2^-ev in linear light, and six items."""
    g = rng(seed, "scene")
    names = [str(c) for c in g.permutation(list(COLOURS))]
    kinds = [str(k) for k in g.permutation(["ball", "cone", "bowl"])]
    img = np.full((W, W, 3), 118, np.uint8)
    img[:40] = (60, 62, 66)  # a darker wall
    ids = np.zeros((W, W), np.uint16)
    objs = []
    for k in range(3):
        cx, base = 22 + 42 * k + int(g.integers(-4, 5)), int(g.integers(55, 120))
        _draw(kinds[k], cx, base, COLOURS[names[k]], img)
        layer = np.zeros((W, W), np.uint8)
        _draw(kinds[k], cx, base, (1, 1, 1), layer)
        ids[layer > 0] = k + 1
        ys, xs = np.nonzero(layer)
        objs.append((names[k], kinds[k], cx, base, [1000 * xs.min() / W, 1000 * ys.min() / W,
                                                    1000 * (xs.max() + 1) / W, 1000 * (ys.max() + 1) / W]))
    lin = (img / 255.0) ** 2.2 * 2.0 ** -ev
    noisy = 255 * np.clip(lin, 0, 1) ** (1 / 2.2) + g.normal(0, 1.5, img.shape)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8), _questions(objs, names, g), ids


def _questions(objs: list[Any], present: list[str], g: np.random.Generator) -> list[Item]:
    absent = [c for c in COLOURS if c not in present]
    (c0, k0, x0, b0, box0), (c1, k1, x1, b1, _) = objs[0], objs[int(g.integers(1, 3))]
    def mc(key: str, q: str, opts: list[str], right: str) -> Item:
        opts = [opts[i] for i in g.permutation(len(opts))]
        return item(key, "mc", q, tuple(opts), LETTERS[opts.index(right)])
    return [
        mc("color/0", f"What colour is the {k0}?", [c0, *absent[:3]], c0),
        mc("color/1", f"What colour is the object at the point ({round(1000 * (x0 + 0.5) / W)}, "
           f"{round(1000 * (b0 - 6 + 0.5) / W)}) in permille of the image width and height?", [c0, *absent[:3]], c0),
        mc("left_right/0", f"In the image, is the {c1} {k1} to the left or to the right of the {c0} {k0}?",
           ["to the left", "to the right"], "to the left" if x1 < x0 else "to the right"),
        mc("front_behind/0", f"Which is closer to the camera: the {c0} {k0} or the {c1} {k1}?",
           [f"the {c0} {k0}", f"the {c1} {k1}"], f"the {c0} {k0}" if b0 > b1 else f"the {c1} {k1}"),
        mc("existence/0", f"Is there a {c0} {k0} in the image?", ["yes", "no"], "yes"),
        item("box/0", "box", f"Give the bounding box of the {c0} {k0}.", box=box0),
        item("point/0", "point", f"Point to the {c0} {k0}.", mask="ids.png", instances=[1]),
    ]


def _accuracy(ev: float, tmp: Path, n: int = 30) -> float:
    model, hits = Classical(), []
    for s in range(n):
        rgb, items, ids = synthetic_scene(s, ev)
        write_atomic(tmp / f"{s}.png", encode_rgb(rgb))
        replies = ask(model, items, str(tmp / f"{s}.png"))
        masks = {"ids.png": ids}
        hits += [score(i, t, masks.__getitem__).correct for i, t in zip(items, replies, strict=True)]
    return float(np.mean(hits))


def test_classical_sees_in_light_and_fails_in_the_dark(tmp_path: Path) -> None:
    acc = {ev: _accuracy(ev, tmp_path) for ev in (0.0, 5.0)}
    assert acc[0.0] >= 0.9, acc
    assert acc[5.0] < acc[0.0] - 0.3, acc


def test_classical_never_reads_the_truth() -> None:
    model = Classical()
    for s in range(5):
        rgb, items, _ = synthetic_scene(s, 0.0)
        for it in items:
            lie = it.model_copy(update={"answer": None if it.answer is None else ("A" if it.answer != "A" else "B"),
                                        "truth": {k: "poison" for k in it.truth}})
            assert model.answer(it, rgb) == model.answer(lie, rgb)


def test_classical_reads_question_words() -> None:
    assert mentions("Is the red mug left of the grey bowls?") == [("red", "mug"), ("gray", "bowl")]
    assert mentions("What kind of object is the purple one?") == [("purple", None)]
    assert mentions("How many boxes can you see?") == [(None, "box")]


def test_classical_unreadable_image_is_an_error_reply(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(b"not a png")
    r = Classical().generate([Request(id="x", prompt="", images=(str(tmp_path / "bad.png"),),
                                      item=item("box/0", "box", "Give the bounding box of the red ball."))])[0]
    assert r.text == "" and "cannot read image" in str(r.error)


# -- the same contracts on a rendered benchmark through the runner ----------------------------------
def run(bench: Benchmark, name: str, tmp: Path, batch: int = 16) -> list:  # type: ignore[type-arg]
    return Runner(bench, create_model(name), tmp / f"{name}-{batch}", label=name, batch_size=batch).run(False).predictions


def test_oracle_scores_every_rendered_item(tiny_bench: Benchmark, tmp_path: Path) -> None:
    preds = run(tiny_bench, "oracle", tmp_path)
    assert len(preds) == len(tiny_bench.items)
    assert all(p.correct and p.parse_error is None for p in preds)


@pytest.mark.slow
def test_deterministic_backends_ignore_batch_size(tiny_bench: Benchmark, tmp_path: Path) -> None:
    for name in ("classical", "random", "blind", "prior"):
        a = run(tiny_bench, name, tmp_path, batch=1)
        b = run(tiny_bench, name, tmp_path, batch=8)
        assert [(p.item_id, p.raw, p.score) for p in a] == [(p.item_id, p.raw, p.score) for p in b]


def test_random_lands_inside_computed_chance_on_rendered_items(tiny_bench: Benchmark, tmp_path: Path) -> None:
    """Per answer format (placement apart from object points), random's accuracy on the rendered
    benchmark lies in the 99.7% band of its computed chance, and box chance is no longer 0."""
    preds = run(tiny_bench, "random", tmp_path)
    for kind in ("mc", "box", "point", "placement"):
        mine = [p for p in preds if (p.qtype if p.format == "point" else p.format) == kind]
        assert mine, kind
        lo, hi = chance_band([p.chance for p in mine], z=3.0)
        assert lo <= np.mean([p.correct for p in mine]) <= hi, kind
    assert np.mean([p.chance for p in preds if p.format == "box"]) > 0


def test_classical_degrades_with_rendered_underexposure(tiny_bench: Benchmark, tmp_path: Path) -> None:
    preds = run(tiny_bench, "classical", tmp_path)
    acc = {}
    for sev in (0, 5):
        sel = [p for p in preds if p.severity == sev and p.subtype in ("none", "global_underexposure")]
        acc[sev] = np.mean([p.correct for p in sel])
    assert acc[0] > 0.5 and acc[5] < acc[0] - 0.1, acc


def test_classical_never_reads_rendered_truth(tiny_bench: Benchmark) -> None:
    c = Classical()
    for it in tiny_bench.items[:60]:
        r = request_for(it, tiny_bench)
        lie = it.model_copy(update={"answer": "D" if it.answer != "D" else "A",
                                    "truth": {k: "poison" for k in it.truth}})
        assert c.generate([r])[0].text == c.generate([Request(**{**r.__dict__, "item": lie})])[0].text
