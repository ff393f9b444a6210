"""The text-only ``prior`` baseline: it finds text leaks, and the balanced types leave it at chance."""

from __future__ import annotations

import json
import math
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from robostress.evaluate.leakage import format_rows, leakage_rows
from robostress.models.base import Request, create_model
from robostress.models.baselines import Blind
from robostress.models.prior import DEFAULT_TABLE, Prior, fit, normalise, save
from robostress.models.prior_fit import CONF
from robostress.questions import PROMPT_VERSION, Item
from tests.questions.fakes import sampled_clean_items

TRAIN_SEED = int(yaml.safe_load((CONF / "benchmark" / "train.yaml").read_text())["seed"])
# Types whose truth the current scenes let the generator balance (by value and by letter).
BALANCED = ("category", "color", "existence", "left_right", "front_behind", "ordering", "nearest", "upright")


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Prior:
    table = fit(sampled_clean_items(TRAIN_SEED, 100), {"benchmark": "fake-train"})
    path = tmp_path_factory.mktemp("prior") / "prior.json"
    save(table, path)
    return Prior(table=str(path))


@pytest.fixture(scope="module")
def test_items() -> dict[str, list[Item]]:
    by: dict[str, list[Item]] = defaultdict(list)
    for i in sampled_clean_items(0, 100):
        if i.format == "mc":
            by[i.qtype].append(i)
    return by


def accuracy(model: Prior, items: list[Item]) -> float:
    replies = model.generate([Request(id=i.item_id, prompt=i.prompt, item=i) for i in items])
    return sum(r.text == i.answer for r, i in zip(replies, items, strict=True)) / len(items)


def test_names_become_mention_order_and_unmentioned_names_their_category() -> None:
    n = normalise("Which is closer to the camera: the red mug or the blue book?",
                  ["the blue book", "the red mug", "the green cone", "the table"])
    assert n.template == "Which is closer to the camera: <1> or <2>?"
    assert n.options == ("<2>", "<1>", "<x:cone>", "the table")


@pytest.mark.slow
def test_prior_finds_the_leaks_that_remain(fitted: Prior, test_items: dict[str, list[Item]]) -> None:
    """Scenes without stacks: everything rests on a support, so 'on' in a one-table scene and
    'done?' against a flat-topped destination are answerable from the text: the prior must see it."""
    table_on = [i for i in test_items["on"] if i.scene_id.startswith("tabletop")]
    assert accuracy(fitted, table_on) >= 0.95
    table_goal = [i for i in test_items["goal"] if i.scene_id.startswith("tabletop")]
    assert accuracy(fitted, table_goal) >= 0.9


@pytest.mark.parametrize("qtype", BALANCED)
@pytest.mark.slow
def test_prior_is_at_chance_on_balanced_types(fitted: Prior, test_items: dict[str, list[Item]], qtype: str) -> None:
    """Within 5 points of chance, or 3 binomial standard errors where n is too small for 5."""
    its = test_items[qtype]
    chance = sum(1 / len(i.options) for i in its) / len(its)
    bound = max(0.05, 3 * math.sqrt(chance * (1 - chance) / len(its)))
    assert len(its) >= 50, (qtype, len(its))
    assert abs(accuracy(fitted, its) - chance) <= bound, (qtype, accuracy(fitted, its), chance, bound)


@pytest.mark.slow
def test_leakage_table_has_a_row_per_type(fitted: Prior, test_items: dict[str, list[Item]]) -> None:
    rows = leakage_rows([i for its in test_items.values() for i in its[:40]], prior=fitted, blind=Blind())
    assert {r.qtype for r in rows} == set(test_items)
    up = next(r for r in rows if r.qtype == "upright")
    assert up.chance == 0.5 and up.letter_skew <= 0.05 and set(up.values) == {"standing upright", "lying on its side"}
    assert "| upright |" in format_rows(rows)


def test_shipped_table_is_json_from_the_train_split_of_this_prompt_version() -> None:
    table = json.loads(DEFAULT_TABLE.read_text())  # plain JSON, no pickle
    src = table["source"]
    assert src["seed"] == TRAIN_SEED and src["prompt_version"] == PROMPT_VERSION, (
        "refit the prior: robostress.models.prior_fit.fit_on_train()")
    assert table["items"] > 1000 and DEFAULT_TABLE.stat().st_size < 2_000_000
    model = create_model("prior")
    assert model.describe()["source"]["content_hash"] == src["content_hash"]


@pytest.mark.slow
def test_boxes_and_points_get_the_train_mean(fitted: Prior) -> None:
    geo = fitted.table["geometry"]
    assert len(geo["box"]) == 4 and len(geo["point"]) == 2
    assert all(0 <= v <= 1000 for v in geo["box"] + geo["point"])


# Lab scenes (real objects, robot): stacks in every scene, categories placed 1, 1, 2, 3 times and
# the first target's colour drawn first, by design. Types whose residual leak is known are held
# to a looser bound, stated here. None is needed now: on this split (80 + 80 scenes) every type is
# within its 3-standard-error bound; next_action (+16 points on 150 scenes before g4) and colour
# (+8) are within 5 points on 150 held-out scenes. `robostress leakage` shows
# the per-type table on 150 + 150 scenes.
LAB_KNOWN_LEAKS: dict[str, float] = {}


@pytest.fixture(scope="module")
def lab_split() -> tuple[Prior, dict[str, list[Item]]]:
    from tests.questions.fakes import sampled_clean_items as items_of

    table = fit(items_of(TRAIN_SEED, 80, families=("lab_tabletop",)), {"benchmark": "fake-train-lab"})
    path = Path(tempfile.mkdtemp()) / "prior.json"
    save(table, path)
    by: dict[str, list[Item]] = defaultdict(list)
    for i in items_of(0, 80, families=("lab_tabletop",)):
        if i.format == "mc":
            by[i.qtype].append(i)
    return Prior(table=str(path)), by


@pytest.mark.slow
def test_prior_and_blind_stay_near_chance_on_lab_scenes(lab_split: tuple[Prior, dict[str, list[Item]]]) -> None:
    """Every multiple-choice type of the lab family: text-only accuracy within 5 points of
    chance (or 3 binomial standard errors where n is too small for 5), known leaks within theirs."""
    prior, by = lab_split
    assert {"on", "count", "goal", "next_action", "clear", "move_first", "category_at", "color", "existence"} <= set(by)
    for qtype, its in sorted(by.items()):
        chance = sum(1 / len(i.options) for i in its) / len(its)
        bound = max(0.05, 3 * math.sqrt(chance * (1 - chance) / len(its)), LAB_KNOWN_LEAKS.get(qtype, 0))
        for name, model in (("prior", prior), ("blind", Blind())):
            acc = accuracy(model, its)  # type: ignore[arg-type]
            assert acc - chance <= bound, (qtype, name, acc, chance, bound, len(its))


@pytest.mark.slow
def test_lab_truth_values_are_balanced(lab_split: tuple[Prior, dict[str, list[Item]]]) -> None:
    """Each truth value's share within 5 points of its share under a truth uniform over the
    options ('the table' a quarter of 'on' answers, each count a quarter, each colour as often as
    offered), drawn by the sampler and the generators. 'on' and 'color' are thinned by g9's fitted
    acceptance (balanced in expectation, about 44 % and 73 % of them kept: 43 'on' items on these
    80 scenes), so theirs is held within 5 points or 2.5 binomial standard errors, whichever is
    wider (on 400 held-out scenes, `robostress leakage`: skew 2.7 points for 'on', 1.2 for colour)."""
    prior, by = lab_split
    rows = {r.qtype: r for r in leakage_rows([i for its in by.values() for i in its], prior=prior, blind=Blind())}
    for qtype in ("existence", "goal", "clear"):
        assert rows[qtype].value_skew <= 0.05, (qtype, rows[qtype].values, rows[qtype].expected)
    for qtype in ("on", "color"):
        r = rows[qtype]
        p = min(r.expected.values())
        tol = max(0.05, 2.5 * (p * (1 - p) / r.n) ** 0.5)
        assert r.value_skew <= tol, (qtype, r.n, r.values, r.expected, tol)
    assert rows["on"].values.get("the table", 0) <= 0.30


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="generator g8 (issue 26) moved two types' truths off uniform on this split: "
                   "count asks only plainly visible instances and a triple passes less often than a pair (3s: 4 of "
                   "38; 0 12, 1 11, 2 11); next_action has three options and 'done' is 26 of 64 (40.6 %); open "
                   "in issue 26's notes")
def test_lab_count_and_next_action_values_are_balanced(lab_split: tuple[Prior, dict[str, list[Item]]]) -> None:
    """Each count (0-3) a quarter of the count answers and each next action a third, within 5 points."""
    prior, by = lab_split
    rows = {r.qtype: r for r in leakage_rows([i for its in by.values() for i in its], prior=prior, blind=Blind())}
    assert rows["next_action"].value_skew <= 0.05, rows["next_action"].values
    assert rows["count"].value_skew <= 0.05 and min(rows["count"].values.values()) >= 0.2, rows["count"].values


def test_train_build_config_reads_the_preset_catalogs() -> None:
    """The refit recipe composes: train preset, preview renderer (found through the catalog)."""
    from robostress.models.prior_fit import train_build_config

    cfg = train_build_config(num_scenes=2, severities=[3])
    assert cfg.seed == TRAIN_SEED and cfg.num_scenes == 2 and cfg.questions and cfg.render.width == 64
