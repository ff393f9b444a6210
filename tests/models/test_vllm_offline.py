"""``vllm_offline``: the install hint without vLLM, the pure message builder, and the wiring of
LLM.chat / SamplingParams / StructuredOutputsParams against a recording stand-in module
(vLLM itself installs on CUDA machines only)."""

from __future__ import annotations

import base64
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from robostress.errors import BackendError
from robostress.models.base import Request, create_model
from robostress.models.vllm_offline import offline_messages


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    p = tmp_path_factory.mktemp("img") / "x.png"
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(p)
    return str(p)


def test_without_vllm_the_error_says_how_to_install() -> None:
    try:
        import vllm  # noqa: F401

        pytest.skip("vllm is installed here")
    except ImportError:
        pass
    with pytest.raises(BackendError, match=r"pip install 'robostress\[vllm\]' on a CUDA machine"):
        create_model("vllm_offline", name="Qwen/Qwen2.5-VL-3B-Instruct")


def test_offline_messages(image: str) -> None:
    rs = [Request(id="a", prompt="q?", images=(image, image), system="be brief"),
          Request(id="b", prompt="text only"), Request(id="c", prompt="q", images=("/missing.png",))]
    a, b, c = offline_messages(rs)
    assert a[0] == {"role": "system", "content": "be brief"} and a[1]["role"] == "user"
    parts = a[1]["content"]
    assert [p["type"] for p in parts] == ["image_url", "image_url", "text"] and parts[2]["text"] == "q?"
    assert base64.b64decode(parts[0]["image_url"]["url"].split(",", 1)[1]) == Path(image).read_bytes()
    assert b == [{"role": "user", "content": [{"type": "text", "text": "text only"}]}]
    assert isinstance(c, str) and "cannot read image '/missing.png'" in c


@dataclass
class _Logprob:
    logprob: float
    decoded_token: str


@dataclass
class _Out:
    text: str
    token_ids: list[int]
    logprobs: Any = None


@dataclass
class _ReqOut:
    outputs: list[_Out]
    prompt_token_ids: list[int] = field(default_factory=lambda: [1, 2, 3])


class _LLM:
    """Records calls; answers the last allowed choice; rejects a prompt containing TOO LONG."""

    calls: list[tuple[list[Any], list[Any]]] = []
    init: dict[str, Any] = {}

    def __init__(self, **kw: Any) -> None:
        _LLM.init = kw

    def chat(self, messages: list[Any], params: list[Any], use_tqdm: bool = True) -> list[_ReqOut]:
        _LLM.calls.append((messages, params))
        if any("TOO LONG" in m[-1]["content"][-1]["text"] for m in messages):
            raise ValueError("prompt is longer than max_model_len")
        outs = []
        for m, p in zip(messages, params, strict=True):
            so = p.kw.get("structured_outputs")
            text = so.choice[-1] if so else ("" if "silent" in m[-1]["content"][-1]["text"] else "free text")
            lps = [{7: _Logprob(-0.1, text), 8: _Logprob(-2.5, " A")}] if p.kw.get("logprobs") else None
            outs.append(_ReqOut([_Out(text, [7], lps)]))
        return outs


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> type[_LLM]:
    vllm = types.ModuleType("vllm")
    sp = types.ModuleType("vllm.sampling_params")
    vllm.LLM = _LLM  # type: ignore[attr-defined]
    vllm.SamplingParams = type("SamplingParams", (), {"__init__": lambda self, **kw: setattr(self, "kw", kw)})  # type: ignore[attr-defined]
    sp.StructuredOutputsParams = type("StructuredOutputsParams", (),  # type: ignore[attr-defined]
                                      {"__init__": lambda self, choice=None: setattr(self, "choice", choice)})
    monkeypatch.setitem(sys.modules, "vllm", vllm)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", sp)
    _LLM.calls = []
    return _LLM


def test_batch_is_one_chat_call_with_structured_choice(fake_vllm: type[_LLM], image: str) -> None:
    m = create_model("vllm_offline", name="some/model", seed=3, logprobs=2, max_tokens=16,
                     gpu_memory_utilization=0.5)
    rs = [Request(id=str(i), prompt=f"q{i}", images=(image,), choices=("A", "B", "C"), max_tokens=100)
          for i in range(4)]
    out = m.generate([*rs, Request(id="free", prompt="describe"), Request(id="s", prompt="silent")])
    assert len(fake_vllm.calls) == 1 and len(fake_vllm.calls[0][0]) == 6
    assert fake_vllm.init == {"model": "some/model", "seed": 3, "tensor_parallel_size": 1, "max_model_len": 8192,
                              "gpu_memory_utilization": 0.5}
    p = fake_vllm.calls[0][1][0]
    assert p.kw["structured_outputs"].choice == ["A", "B", "C"] and p.kw["max_tokens"] == 16 and p.kw["seed"] == 3
    assert "structured_outputs" not in fake_vllm.calls[0][1][4].kw
    assert [r.text for r in out] == ["C"] * 4 + ["free text", ""]
    assert out[0].logprobs == {"C": -0.1, "A": -2.5} and out[4].logprobs is None
    assert out[5].error == "empty content" and out[0].prompt_tokens == 3 and out[0].completion_tokens == 1
    assert m.describe()["engine"]["gpu_memory_utilization"] == 0.5


def test_a_rejected_prompt_fails_alone(fake_vllm: type[_LLM], image: str) -> None:
    m = create_model("vllm_offline", name="some/model")
    rs = [Request(id="a", prompt="ok", choices=("A", "B")), Request(id="b", prompt="TOO LONG"),
          Request(id="c", prompt="ok", images=("/missing.png",)), Request(id="d", prompt="ok", choices=("A", "B"))]
    out = m.generate(rs)
    assert [r.text for r in out] == ["B", "", "", "B"]
    assert out[1].error is not None and out[1].error.startswith("vLLM rejected the request (ValueError: prompt is longer")
    assert out[2].error is not None and "cannot read image" in out[2].error
    assert [len(c[0]) for c in fake_vllm.calls] == [3, 1, 1, 1]  # batch, then one by one
