"""The transformers backend with a real (tiny, random) LLaVA built offline."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("torch")
pytest.importorskip("transformers")

from robostress.errors import BackendError  # noqa: E402
from robostress.models.base import Request, create_model  # noqa: E402
from robostress.models.tiny_vlm import build_tiny_llava  # noqa: E402


@pytest.fixture(scope="session")
def tiny_llava(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_llava(tmp_path_factory.mktemp("llava"), seed=0)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    d = tmp_path_factory.mktemp("imgs")
    out = []
    for i, c in enumerate([(200, 0, 0), (0, 200, 0), (0, 0, 200)]):
        p = d / f"{i}.png"
        Image.fromarray(np.full((40, 40, 3), c, np.uint8)).save(p)
        out.append(str(p))
    return out


def reqs(images: list[str], choices: bool) -> list[Request]:
    return [Request(id=str(i), prompt=f"What colour is object {i}?\nA. red\nB. blue\nC. green\nD. gray",
                    images=(im,), choices=("A", "B", "C", "D") if choices else None, max_tokens=4)
            for i, im in enumerate(images)]


def test_generation_batch(tiny_llava: Path, images: list[str]) -> None:
    m = create_model("hf", path=str(tiny_llava), batch_size=3, mc_mode="generate")
    out = m.generate(reqs(images, False))
    assert len(out) == 3 and all(isinstance(r.text, str) and r.prompt_tokens for r in out)


def test_loglik_choice_and_batch_invariance(tiny_llava: Path, images: list[str]) -> None:
    one = create_model("hf", path=str(tiny_llava), batch_size=1).generate(reqs(images, True))
    three = create_model("hf", path=str(tiny_llava), batch_size=3).generate(reqs(images, True))
    for a, b in zip(one, three, strict=True):
        assert a.text in "ABCD" and a.text == b.text
        assert set(a.logprobs) == set("ABCD")  # type: ignore[arg-type]
        for k in "ABCD":
            assert a.logprobs[k] == pytest.approx(b.logprobs[k], abs=1e-4)  # type: ignore[index]


def test_generation_batch_invariance(tiny_llava: Path, images: list[str]) -> None:
    r = reqs(images, False)
    one = [x.text for x in create_model("hf", path=str(tiny_llava), batch_size=1, mc_mode="generate").generate(r)]
    three = [x.text for x in create_model("hf", path=str(tiny_llava), batch_size=3, mc_mode="generate").generate(r)]
    assert one == three


def test_multi_image_request(tiny_llava: Path, images: list[str]) -> None:
    m = create_model("hf", path=str(tiny_llava))
    r = Request(id="x", prompt="Original then edited.\nA. yes\nB. no", images=tuple(images[:2]), choices=("A", "B"))
    assert m.generate([r])[0].text in ("A", "B")


def test_same_seed_same_weights(tmp_path: Path) -> None:
    a = build_tiny_llava(tmp_path / "a", seed=3) / "model.safetensors"
    b = build_tiny_llava(tmp_path / "b", seed=3) / "model.safetensors"
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="no transformers model at .*pass model.path"):
        create_model("hf", path=str(tmp_path / "nope"))


@pytest.mark.slow
def test_end_to_end_build_eval_report(tiny_bench, tiny_llava: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Tiny benchmark -> tiny LLaVA through the hf backend -> report files that parse."""
    import json

    from robostress.evaluate.evaluate import evaluate

    # 8 new tokens, not the preset's 32: a random-weights model never stops early, and what is checked
    # here is the pipeline (predictions, summary, report), not how long its boxes and points are.
    out = evaluate(tiny_bench.root, {"backend": "hf", "label": "tiny-llava", "path": str(tiny_llava), "batch_size": 16,
                                     "max_new_tokens": 8},
                   tmp_path / "run", progress=False, limit=120)
    assert len(out["predictions"]) == 120
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["n_predictions"] == 120
    assert "<html" in (tmp_path / "run" / "report.html").read_text()
    assert (tmp_path / "run" / "report.md").read_text().startswith("# robostress: tiny-llava")


def test_dtype_keyword_follows_the_transformers_version() -> None:
    from robostress.models.hf import dtype_keyword

    assert dtype_keyword("4.45.0") == "torch_dtype" and dtype_keyword("4.55.4") == "torch_dtype"
    assert dtype_keyword("4.56.0") == "dtype" and dtype_keyword("5.25.0") == "dtype"


def test_cpu_defaults_and_the_preset_budget(tiny_llava: Path, images: list[str]) -> None:
    """dtype auto is float32 on the CPU; the preset's max_new_tokens caps what a request asks."""
    m = create_model("hf", path=str(tiny_llava), mc_mode="generate", max_new_tokens=2)
    assert m.describe()["dtype"] == "float32" and m.device == "cpu"
    r = [Request(id="a", prompt="Describe the image in detail.", images=(images[0],), max_tokens=64)]
    out = m.generate(r)
    assert out[0].completion_tokens is not None and out[0].completion_tokens <= 2


def test_a_gpu_hidden_by_a_cpu_torch_is_said(tiny_llava: Path, monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    import robostress.models.hf as H

    monkeypatch.setattr(H.shutil, "which", lambda name: "/usr/bin/nvidia-smi" if name == "nvidia-smi" else None)
    with caplog.at_level("WARNING"):
        create_model("hf", path=str(tiny_llava))
    assert "CPU-only build" in caplog.text


def test_letter_options_encode_each_image_once_and_keep_few_logits(tiny_llava: Path, images: list[str]) -> None:
    """Four one-token options: one row per request (the vision tower sees each image once) and
    logits only at the scored position, not over the whole sequence; the scores equal a plain
    full-sequence forward pass."""
    import torch

    m = create_model("hf", path=str(tiny_llava), batch_size=3)
    seen: dict[str, list[tuple[int, ...]]] = {"vision": [], "logits": []}
    vt = m.model.model.vision_tower if hasattr(m.model, "model") and hasattr(m.model.model, "vision_tower") \
        else m.model.vision_tower
    vt.register_forward_hook(lambda mod, a, out: seen["vision"].append(tuple(a[0].shape)) if a else None)
    fwd = m.model.forward

    def record(*a, **kw):  # type: ignore[no-untyped-def]
        out = fwd(*a, **kw)
        seen["logits"].append(tuple(out.logits.shape))
        return out

    m.model.forward = record
    out = m.generate(reqs(images, True))
    assert [s[0] for s in seen["vision"]] == [3]  # three images, not twelve
    rows, kept, _ = seen["logits"][0]
    m.model.forward = fwd
    enc = m._encode([m._prompt(reqs(images, True)[0])], [m._images(reqs(images, True)[0])], "right")
    assert rows == 3 and kept <= 3 < enc["input_ids"].shape[1]  # the rows' last positions only
    with torch.inference_mode():
        full = torch.log_softmax(m.model(**enc).logits[0, -1].float(), -1)
    for c in "ABCD":
        t = m.tok(c, add_special_tokens=False)["input_ids"][0]
        assert out[0].logprobs[c] == pytest.approx(float(full[t]), abs=1e-4)  # type: ignore[index]


def test_multi_token_options_are_still_scored_whole(tiny_llava: Path, images: list[str]) -> None:
    m = create_model("hf", path=str(tiny_llava), batch_size=2)
    r = [Request(id="a", prompt="Which?", images=(images[0],), choices=("red cube", "blue sphere")),
         Request(id="b", prompt="Which?", images=(images[1],), choices=("A", "B"))]
    out = m.generate(r)
    assert set(out[0].logprobs or {}) == {"red cube", "blue sphere"} and set(out[1].logprobs or {}) == {"A", "B"}
    alone = m.generate(r[:1])[0]
    for c in ("red cube", "blue sphere"):
        assert alone.logprobs[c] == pytest.approx(out[0].logprobs[c], abs=1e-4)  # type: ignore[index]
