"""The hf backend on tiny random builds of several VLM families: chat templates, one and two
images per request, batches, generation and option log-likelihood."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("torch")
pytest.importorskip("transformers")

from robostress.errors import BackendError  # noqa: E402
from robostress.models.base import Request, create_model  # noqa: E402
from robostress.models.hf import HFModel  # noqa: E402
from robostress.models.tiny_vlm import FAMILIES, build_tiny_vlm  # noqa: E402

pytestmark = pytest.mark.slow

# family -> (a marker of its chat template, the image placeholder its processor expands)
TEMPLATE = {"llava": ("assistant:", "<image>"), "llava_next": ("assistant:", "<image>"),
            "idefics3": ("<end_of_utterance>", "<image>"), "gemma3": ("<start_of_turn>model\n", "<image_soft_token>"),
            "mllama": ("<|start_header_id|>assistant<|end_header_id|>", "<|image|>")}
NEW = [f for f in FAMILIES if f != "llava"]  # llava has its own tests in test_hf.py


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Build each family once per session, on first use."""
    root, built = tmp_path_factory.mktemp("vlms"), {}

    def get(family: str) -> Path:
        if family not in built:
            built[family] = build_tiny_vlm(family, root / family, seed=0)
        return built[family]

    return get


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    d, out = tmp_path_factory.mktemp("imgs"), []
    for i, c in enumerate([(200, 0, 0), (0, 200, 0), (0, 0, 200)]):
        p = d / f"{i}.png"
        Image.fromarray(np.full((40, 56, 3), c, np.uint8)).save(p)  # not square: tiling and resizing differ
        out.append(str(p))
    return out


def batch(images: list[str], choices: bool) -> list[Request]:
    """One, two and one image: the agent's original-plus-edited request sits between plain ones."""
    n = [1, 2, 1]
    return [Request(id=str(i), prompt=f"Object {i}: what colour?\nA. red\nB. blue\nC. green", system="Be brief.",
                    images=tuple(images[i:i + n[i]]), choices=("A", "B", "C") if choices else None, max_tokens=3)
            for i in range(3)]


def test_every_family_is_listed() -> None:
    assert set(TEMPLATE) == set(FAMILIES) and len(NEW) >= 4


@pytest.mark.parametrize("family", list(FAMILIES))
def test_chat_template_and_image_tokens(family: str, tiny_vlm: Callable[[str], Path], images: list[str]) -> None:
    m = create_model("hf", path=str(tiny_vlm(family)))
    assert isinstance(m, HFModel)
    two = Request(id="2", prompt="Original, then edited.", images=tuple(images[:2]), system="Be brief.")
    prompt = m._prompt(two)
    marker, placeholder = TEMPLATE[family]
    assert marker in prompt and "Be brief." in prompt and prompt.index("Be brief.") < prompt.index("Original")
    enc = m._encode([prompt], [m._images(two)], "left")
    ids = enc["input_ids"][0].tolist()
    image_id = m.tok.convert_tokens_to_ids(placeholder)
    one = m._encode([m._prompt(Request(id="1", prompt="x", images=tuple(images[:1])))], [m._images(two)[:1]], "left")
    per_image = one["input_ids"][0].tolist().count(image_id)
    assert per_image >= 1 and ids.count(image_id) >= 2 * per_image - 1  # both images expanded
    if m.tok.bos_token:  # the template's bos is not doubled by the tokenizer
        assert ids.count(m.tok.bos_token_id) <= 1


@pytest.mark.parametrize("family", NEW)
def test_generate_one_and_two_images_batched(family: str, tiny_vlm: Callable[[str], Path],
                                             images: list[str]) -> None:
    path = str(tiny_vlm(family))
    reqs = batch(images, choices=False)
    out = create_model("hf", path=path, batch_size=3, mc_mode="generate").generate(reqs)
    assert len(out) == 3 and all(isinstance(r.text, str) and r.error is None for r in out)
    assert out[1].prompt_tokens > out[0].prompt_tokens  # type: ignore[operator]  # two images take more tokens
    alone = create_model("hf", path=path, batch_size=1, mc_mode="generate").generate(reqs)
    assert [r.text for r in alone] == [r.text for r in out]  # left padding does not change answers


@pytest.mark.parametrize("family", NEW)
def test_loglik_batch_invariant_and_reads_the_images(family: str, tiny_vlm: Callable[[str], Path],
                                                     images: list[str]) -> None:
    path = str(tiny_vlm(family))
    reqs = batch(images, choices=True)
    three = create_model("hf", path=path, batch_size=3).generate(reqs)
    one = create_model("hf", path=path, batch_size=1).generate(reqs)
    for a, b in zip(one, three, strict=True):
        assert a.text in ("A", "B", "C") and a.text == b.text and set(a.logprobs or ()) == {"A", "B", "C"}
        for k in "ABC":
            assert a.logprobs[k] == pytest.approx(b.logprobs[k], abs=1e-4)  # type: ignore[index]
    swapped = Request(**{**reqs[0].__dict__, "images": (images[2],)})  # same prompt, another image
    other = create_model("hf", path=path, batch_size=1).generate([swapped])[0]
    assert max(abs(other.logprobs[k] - one[0].logprobs[k]) for k in "ABC") > 1e-4  # type: ignore[index]


def test_unknown_family_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown tiny VLM family 'qwen9'; choose from llava, "):
        build_tiny_vlm("qwen9", tmp_path)


def test_processor_needing_torchvision_is_one_clear_error(tmp_path: Path) -> None:
    """Qwen2-VL's processor loads a video processor, which needs torchvision."""
    from transformers import AutoModelForImageTextToText, Qwen2VLConfig, Qwen2VLImageProcessorPil
    from transformers.utils import is_torchvision_available

    from robostress.models.tiny_vlm import WIDTH, _tokenizer

    if is_torchvision_available():
        pytest.skip("torchvision is installed here: the Qwen-VL processors load")
    tok = _tokenizer(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                      "<|image_pad|>", "<|video_pad|>"], eos_token="<|im_end|>", pad_token="<|endoftext|>")
    text = dict(vocab_size=len(tok), num_key_value_heads=2, rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]})
    cfg = Qwen2VLConfig(text_config={**text, **WIDTH}, vision_config=dict(depth=1, embed_dim=32, hidden_size=32,
                                                                            num_heads=2))
    AutoModelForImageTextToText.from_config(cfg).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    Qwen2VLImageProcessorPil().save_pretrained(tmp_path)
    (tmp_path / "processor_config.json").write_text(json.dumps({"processor_class": "Qwen2VLProcessor"}))
    with pytest.raises(BackendError) as e:
        create_model("hf", path=str(tmp_path))
    msg = str(e.value)
    assert "\n" not in msg and "Qwen2VLVideoProcessor requires the Torchvision library" in msg
    assert msg.startswith(f"cannot load the model at {tmp_path}")


@pytest.mark.parametrize("family", ["gemma3", "mllama"])  # the two whose zero-initialised parameters are opened
def test_same_seed_same_weights(family: str, tmp_path: Path) -> None:
    import hashlib

    def digest(d: str, seed: int) -> bytes:
        return hashlib.sha256((build_tiny_vlm(family, tmp_path / d, seed=seed) / "model.safetensors").read_bytes()).digest()

    assert digest("a", 3) == digest("b", 3) != digest("c", 4)
