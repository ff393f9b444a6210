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

    out = evaluate(tiny_bench.root, {"backend": "hf", "label": "tiny-llava", "path": str(tiny_llava), "batch_size": 16},
                   tmp_path / "run", progress=False, limit=120)
    assert len(out["predictions"]) == 120
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["n_predictions"] == 120
    assert "<html" in (tmp_path / "run" / "report.html").read_text()
    assert (tmp_path / "run" / "report.md").read_text().startswith("# robostress: tiny-llava")
