"""The requests and engine arguments robostress builds, checked with vLLM's own classes.

Needs the vLLM wheel (no GPU): ``pip install --no-deps vllm==0.33.0`` beside CPU torch plus the
few pure-Python packages its request schema imports. Skipped, with that reason, where vllm does
not import. ``bash .ci/vllm_schema.sh`` builds such a venv and runs this file there with
``--noconftest`` (it needs none of the shared fixtures, and that venv need not have Mitsuba).

A body can validate and still carry a field vLLM drops (its request model allows extra keys and
only logs them), so every body must also leave ``model_extra`` empty.
"""

from __future__ import annotations

import dataclasses
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

vllm = pytest.importorskip("vllm", reason="vLLM is not installed (pip install --no-deps vllm beside CPU torch)")
protocol = pytest.importorskip("vllm.entrypoints.openai.chat_completion.protocol",
                               reason="this vLLM has no chat_completion.protocol (older than 0.12?)")

from vllm import SamplingParams  # noqa: E402
from vllm.engine.arg_utils import EngineArgs  # noqa: E402
from vllm.sampling_params import StructuredOutputsParams  # noqa: E402

from robostress.models.base import Request, create_model  # noqa: E402

DIFF = {"repetition_penalty": 1.05, "top_k": 20, "top_p": 0.8, "max_tokens": 512}  # a checkpoint's generation_config


class _Recorder:
    """Stands in for ``vllm.LLM`` (which needs a GPU): records its arguments, offers the
    checkpoint defaults the way ``llm.llm_engine.model_config`` does."""

    init: dict[str, Any] = {}

    def __init__(self, **kw: Any) -> None:
        _Recorder.init = kw
        mc = types.SimpleNamespace(get_diff_sampling_param=lambda: dict(DIFF))
        self.llm_engine = types.SimpleNamespace(model_config=mc, engine_core=types.SimpleNamespace(shutdown=lambda: None))


@pytest.fixture
def image(tmp_path: Path) -> str:
    p = tmp_path / "x.png"
    Image.fromarray(np.full((8, 8, 3), 120, np.uint8)).save(p)
    return str(p)


def requests(image: str) -> list[Request]:
    return [Request(id="mc", prompt="A or B?", images=(image,), choices=("A", "B"), system="Answer with the letter."),
            Request(id="two", prompt="first original, second edited", images=(image, image), choices=("A", "B", "C")),
            Request(id="free", prompt="Where is the mug?", images=(image,), max_tokens=16)]


def test_offline_builds_real_sampling_params_and_engine_args(image: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vllm, "LLM", _Recorder)
    m = create_model("vllm_offline", name="Qwen/Qwen2.5-VL-3B-Instruct", logprobs=3, max_tokens=32,
                     gpu_memory_utilization=0.8, limit_mm_per_prompt={"image": 2})
    fields = {f.name for f in dataclasses.fields(EngineArgs)}
    assert set(_Recorder.init) <= fields, set(_Recorder.init) - fields  # no misspelt engine argument
    ea = EngineArgs(**_Recorder.init)
    assert ea.enable_prefix_caching is True and ea.max_model_len is None and ea.generation_config == "auto"
    for r in requests(image):
        sp = m.sampling_params(r)
        assert isinstance(sp, SamplingParams) and sp.logprobs == 3 and sp.repetition_penalty == 1.05
        assert sp.max_tokens == min(r.max_tokens, 32) and sp.temperature == 0.0 and sp.seed == 0
        if r.choices:
            assert isinstance(sp.structured_outputs, StructuredOutputsParams)
            assert sp.structured_outputs.choice == list(r.choices)
        else:
            assert sp.structured_outputs is None


def test_offline_and_server_decode_alike(image: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's SamplingParams for our body (with the checkpoint's defaults, as `vllm serve`
    applies them) equal the offline backend's for the same request."""
    monkeypatch.setattr(vllm, "LLM", _Recorder)
    off = create_model("vllm_offline", name="served/vlm", max_tokens=32)
    srv = create_model("vllm", name="served/vlm", check=False, max_tokens=32)
    keys = ("temperature", "top_p", "top_k", "min_p", "repetition_penalty", "presence_penalty",
            "frequency_penalty", "seed")  # max_tokens: the server passes its own resolved limit
    for r in requests(image):
        req = protocol.ChatCompletionRequest.model_validate(srv.body(r))
        server = req.to_sampling_params(max_tokens=4096, default_sampling_params=dict(DIFF))
        offline = off.sampling_params(r)
        assert {k: getattr(server, k) for k in keys} == {k: getattr(offline, k) for k in keys}, r.id
        assert getattr(server.structured_outputs, "choice", None) == getattr(offline.structured_outputs, "choice", None)


@pytest.mark.parametrize(("backend", "name", "kw"), [
    ("vllm", "served/vlm", {}),
    ("vllm", "served/vlm", {"logprobs": 3, "temperature": 0.7, "seed": 5}),
    ("openai", "served/vlm", {"base_url": "http://127.0.0.1:8000/v1", "structured_outputs": True}),
    ("openai", "gpt-5-mini", {"max_tokens": 4096}),  # max_completion_tokens, no temperature
    ("openai", "gpt-4o", {"logprobs": 2}),
])
def test_every_body_is_a_valid_vllm_request_with_no_ignored_field(image: str, backend: str, name: str,
                                                                  kw: dict[str, Any]) -> None:
    m = create_model(backend, name=name, check=False, **kw)
    for r in requests(image):
        body = m.body(r)
        req = protocol.ChatCompletionRequest.model_validate(body)
        assert not req.model_extra, f"vLLM would ignore {sorted(req.model_extra or {})}"
        sp = req.to_sampling_params(max_tokens=4096, default_sampling_params={})
        assert (req.max_completion_tokens or req.max_tokens) == body.get("max_tokens", body.get("max_completion_tokens"))
        assert ("temperature" in body) == (name != "gpt-5-mini")
        n_images = sum(p.get("type") == "image_url" for p in req.messages[-1]["content"])
        assert n_images == len(r.images)
        if r.choices and "structured_outputs" in body:
            assert sp.structured_outputs.choice == list(r.choices)


def test_the_guided_choice_body_is_for_old_servers_only(image: str) -> None:
    """The 0.10.x body's guided_choice is an ignored field for a current vLLM: it must never be
    sent there (the client sends it only after /version said < 0.11)."""
    m = create_model("vllm", name="served/vlm", check=False)
    m.choice_field = "guided_choice"
    req = protocol.ChatCompletionRequest.model_validate(m.body(requests(image)[0]))
    assert set(req.model_extra or {}) == {"guided_choice"}


def test_vllm_version_is_in_the_tested_range() -> None:
    from robostress.core.version import version_tuple

    assert (0, 10) <= version_tuple(vllm.__version__) <= (0, 33, 99), vllm.__version__
    assert "vllm" in sys.modules
