"""``reader``: its text features, a few training steps that lower the loss on a tiny clean train
build, the shipped weights answering real items in the reply formats, and bad weights refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robostress.benchmark.build import Builder
from robostress.benchmark.load import Benchmark
from robostress.errors import ConfigError
from robostress.evaluate.runner import request_for
from robostress.models.base import create_model
from robostress.models.reader import (
    WEIGHTS,
    peak_box,
    peak_point,
    read_safetensors,
    write_safetensors,
)
from robostress.models.reader_text import read_item
from robostress.render.renderer import RenderSettings
from robostress.scoring.score import parse_answer
from tests.conftest import tiny_config

torch = pytest.importorskip("torch")
TRAIN_SEED = 900000  # robostress/conf/benchmark/train.yaml (reader_train refuses any other seed)


@pytest.fixture(scope="module")
def clean_train(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Benchmark:
    """Two clean train-split scenes at 64 px (no stressed frames)."""
    out = tmp_path_factory.mktemp("reader") / "train"
    cfg = tiny_config(name="reader-tiny", num_scenes=2, seed=TRAIN_SEED, subtypes=[],
                      render=RenderSettings(width=64, height=64, spp=2, sampler="multijitter", max_depth=4))
    Builder(cfg, out, cache_dir).build(progress=False)
    return Benchmark(out)


def test_text_features_read_points_and_names() -> None:
    t = read_item("category_at", "mc", "What kind of object is at the point (361, 377) in permille?", ["mug", "a red bowl"])
    assert t.point == pytest.approx((0.361, 0.377)) and "<pt>" in t.words and "361" not in t.words
    assert t.option_mentions == ((), (("red", "bowl"),))
    c = read_item("count", "mc", "How many ramekins are on the table?", ["1", "2"])
    assert c.mentions == (("ramekin",),)
    m = read_item("move_first", "mc", "What must it move first?", ["nothing, it can be picked up directly"])
    assert m.option_mentions == ((),)  # the verb 'can' is not a can


def test_decoding_rules_give_permille_answers() -> None:
    lg = np.full((32, 32), -5.0, np.float32)
    lg[8:12, 20:26] = 5.0  # an object at x 625..812, y 250..375 permille
    x, y = peak_point(lg)
    assert 625 <= x <= 812 and 250 <= y <= 375
    x1, y1, x2, y2 = peak_box(lg)
    assert abs(x1 - 625) < 40 and abs(x2 - 812) < 40 and abs(y1 - 250) < 40 and abs(y2 - 375) < 40


def test_safetensors_round_trip(tmp_path: Path) -> None:
    a = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.array(7, dtype=np.int64)}
    write_safetensors(a, {"k": "v"}, tmp_path / "x.safetensors")
    b, meta = read_safetensors(tmp_path / "x.safetensors")
    assert meta == {"k": "v"} and np.array_equal(b["w"], a["w"]) and int(b["n"]) == 7
    st = pytest.importorskip("safetensors.numpy")  # the reference reader agrees
    assert np.array_equal(st.load_file(str(tmp_path / "x.safetensors"))["w"], a["w"])


@pytest.mark.parametrize("content", [b"", b"not a safetensors file at all", b"\x10\x00\x00\x00\x00\x00\x00\x00{}"])
def test_bad_weights_are_one_clear_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(content)
    with pytest.raises(ConfigError, match=r"reader weights .*bad.safetensors cannot be loaded.*retrain"):
        create_model("reader", weights=str(bad))
    with pytest.raises(ConfigError, match="not found"):
        create_model("reader", weights=str(tmp_path / "missing.safetensors"))


def test_shipped_weights_answer_in_the_reply_formats(clean_train: Benchmark) -> None:
    if not (WEIGHTS / "reader.safetensors").is_file():
        pytest.skip("no shipped reader weights")
    model = create_model("reader")
    items = clean_train.items
    replies = model.generate([request_for(it, clean_train) for it in items])
    assert len(replies) == len(items) and {it.format for it in items} >= {"mc", "box", "point"}
    for it, r in zip(items, replies, strict=True):
        assert r.error is None, r.error
        assert parse_answer(it, r.text).error is None, (it.item_id, r.text)
    assert model.describe()["weights_sha256"]
    alone = [model.generate([request_for(it, clean_train)])[0].text for it in items]
    halves = [r.text for k in range(0, len(items), 3)
              for r in model.generate([request_for(it, clean_train) for it in items[k:k + 3]])]
    assert alone == halves == [r.text for r in replies]  # the answers do not move with the batch


def test_a_few_steps_lower_the_loss(clean_train: Benchmark, tmp_path: Path) -> None:
    from robostress.models.reader_train import load_data, train

    data = load_data([clean_train.root])
    assert len(data.images) == 2 and data.items and all(i < 2 for i, *_ in data.items)
    card = train(data, tmp_path / "r.safetensors", epochs=12, batch=2, dim=32, lr=3e-3)
    first, last = card["curve"][0]["total"], card["curve"][-1]["total"]
    assert last < first * 0.9, card["curve"]
    assert card["data_hash"] == data.hash() and (tmp_path / "r.json").is_file()
    m = create_model("reader", weights=str(tmp_path / "r.safetensors"))  # what train wrote loads
    assert m.describe()["image"] is True


def test_training_refuses_a_build_of_another_seed(tmp_path: Path, cache_dir: Path) -> None:
    from robostress.models.reader_train import load_data

    out = tmp_path / "seed0"
    cfg = tiny_config(name="s0", num_scenes=1, seed=0, subtypes=[], questions=False,
                      render=RenderSettings(width=32, height=32, spp=1, sampler="multijitter", max_depth=2))
    Builder(cfg, out, cache_dir).build(progress=False)
    with pytest.raises(ConfigError, match="train split"):
        load_data([out])
