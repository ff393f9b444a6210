"""Answers independent of what the question shows: the fitted acceptance of
``robostress.questions.acceptance`` (fit, the shipped table, and its use in ``plan_questions``)."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

from robostress.benchmark.build import GENERATOR_VERSION
from robostress.questions import acceptance
from robostress.questions.acceptance import Record, kind_of
from robostress.questions.boxes import box_render
from robostress.questions.generate import plan_questions
from robostress.scene.sample import sample_scene
from tests.models.test_prior import TRAIN_SEED

ACCEPTED_BY_FIT = {"color", "next_action", "on", "move_first"}


def _skewed_records(n: int = 3000) -> list[Record]:
    """Two options of kinds a, b, c; 'a' is the truth three times in four where the question
    shows 'left', one time in four where it shows 'right'; a second attribute says nothing."""
    g = np.random.default_rng(0)
    out = []
    for _ in range(n):
        where = "left" if g.random() < 0.5 else "right"
        wrong = "b" if g.random() < 0.5 else "c"
        truth = "a" if g.random() < (0.75 if where == "left" else 0.25) else wrong
        kinds = ("a", wrong)
        out.append(Record(kinds, truth, {"where": where, "noise": str(int(g.integers(3)))}))
    return out


def _truth_share(records: list[Record], keep: list[float], attr: str) -> dict[str, float]:
    """Per value of ``attr``, the kept share of questions whose truth is 'a' (one in two: no leak)."""
    tot: dict[str, float] = defaultdict(float)
    a: dict[str, float] = defaultdict(float)
    for r, w in zip(records, keep, strict=True):
        tot[r.attrs[attr]] += w
        a[r.attrs[attr]] += w * (r.truth == "a")
    return {v: a[v] / tot[v] for v in tot}


def test_fit_makes_the_truth_independent_of_what_the_question_shows() -> None:
    recs = _skewed_records()
    raw = _truth_share(recs, [1.0] * len(recs), "where")
    assert raw["left"] > 0.7 and raw["right"] < 0.3
    exact = acceptance.fit(recs, quantile=1.0)
    keep = [acceptance.acceptance(exact, r) for r in recs]
    assert all(0.0 <= w <= 1.0 for w in keep) and max(keep) == pytest.approx(1.0)
    for attr in ("where", "noise"):
        assert all(abs(s - 0.5) < 0.03 for s in _truth_share(recs, keep, attr).values()), attr
    assert exact["share_max"][0] > 0.2 and exact["share_max"][1] < 0.03
    loose = acceptance.fit(recs)  # the default quantile keeps more, balanced almost as well
    assert loose["kept"] > exact["kept"]
    keep = [acceptance.acceptance(loose, r) for r in recs]
    assert all(abs(s - 0.5) < 0.08 for s in _truth_share(recs, keep, "where").values())
    assert acceptance.acceptance(loose, Record(("x", "y"), "x", {"where": "up"})) == pytest.approx(min(1.0, np.exp(loose["log_scale"])))


def test_a_kind_offered_but_never_right_is_seldom_offered_so() -> None:
    """'storage box' offered under a pudding box is never the truth: such questions are dropped."""
    recs = ([Record(("table", "storage box"), "table", {"subject": "pudding box"})] * 40
            + [Record(("table", "storage box"), "storage box", {"subject": "mug"})] * 20
            + [Record(("table", "storage box"), "table", {"subject": "mug"})] * 20)
    e = acceptance.fit(recs, quantile=1.0)
    assert acceptance.acceptance(e, recs[0]) < 0.2 < acceptance.acceptance(e, recs[-1])


def test_a_fit_on_a_handful_of_questions_keeps_finite_numbers() -> None:
    """Two scenes' questions: factors run far (nothing holds them), weights must not underflow to 0."""
    recs = [Record(("a", "b", "c"), "a", {"s": "x"}), Record(("a", "b", "d"), "b", {"s": "y"}),
            Record(("c", "d", "e"), "e", {"s": "x"})]
    e = acceptance.fit(recs)
    assert np.isfinite(e["log_scale"]) and 0 < e["kept"] <= 1
    assert all(0 < acceptance.acceptance(e, r) <= 1 for r in recs)
    json.dumps(e, allow_nan=False)


def test_kind_of_abstracts_article_and_colour() -> None:
    assert [kind_of(x) for x in ("the table", "a book", "the red ketchup bottle", "nothing, it can be picked up directly")] \
        == ["table", "book", "ketchup bottle", "nothing, it can be picked up directly"]


def test_shipped_table_is_from_the_train_split_of_this_generator() -> None:
    table = json.loads(acceptance.ACCEPTANCE_TABLE.read_text())  # plain JSON
    assert table["generator"] == GENERATOR_VERSION, "refit: robostress calibrate"
    lab = table["families"]["lab_tabletop"]
    assert lab["seed"] == TRAIN_SEED and lab["num_scenes"] >= 300
    assert set(lab["types"]) == ACCEPTED_BY_FIT
    for qtype, entry in lab["types"].items():
        assert acceptance.entry_for("lab_tabletop", qtype) == entry
        assert entry["records"] >= 300 and entry["kept"] >= 0.35, (qtype, entry["kept"])
        before, after = entry["share_max"]
        assert after < before, qtype
    assert acceptance.entry_for("tabletop", "color") is None


@pytest.mark.slow
def test_plan_questions_keeps_by_acceptance_and_reports_records() -> None:
    """Real box-rendered train scenes: with ``records`` every question of those types is kept and
    described; without, some are left out, deterministically, and nothing else is."""
    kept = proposed = 0
    for i in range(10):
        plan = sample_scene("lab_tabletop", TRAIN_SEED, i)
        frame, arrays = box_render(plan)
        recs: list[tuple[str, Record]] = []
        every = plan_questions(plan, frame, TRAIN_SEED, arrays, i, records=recs)
        some = plan_questions(plan, frame, TRAIN_SEED, arrays, i)
        assert some == plan_questions(plan, frame, TRAIN_SEED, arrays, i)
        fitted = [s.key for s in every if s.qtype in ACCEPTED_BY_FIT
                  and not (s.qtype == "color" and "x" not in s.params)]
        assert len(recs) == len(fitted) and {q for q, _ in recs} <= ACCEPTED_BY_FIT
        assert {s.key for s in every} - {s.key for s in some} <= set(fitted)
        assert {s.key for s in some} <= {s.key for s in every}
        proposed += len(fitted)
        kept += len(set(fitted) & {s.key for s in some})
        for _, r in recs:
            assert r.truth in r.kinds and r.attrs
    assert proposed >= 20 and 0 < kept < proposed
