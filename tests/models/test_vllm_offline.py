"""``vllm_offline``: the install hint without vLLM, the pure message builder, and the wiring of
LLM.chat / SamplingParams / StructuredOutputsParams against a recording stand-in module
(vLLM itself installs on CUDA machines only)."""

from __future__ import annotations

import base64
import os
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


class EngineDeadError(Exception):
    pass


class _LLM:
    """Records calls; answers the last allowed choice; rejects a prompt containing TOO LONG; its
    engine dies on a prompt containing OOM. The checkpoint's generation_config sets a repetition
    penalty, top_k and max_new_tokens (as many instruct checkpoints do)."""

    calls: list[tuple[list[Any], list[Any]]] = []
    init: dict[str, Any] = {}
    shutdowns = 0
    diff = {"repetition_penalty": 1.05, "top_k": 20, "max_tokens": 512}

    def __init__(self, **kw: Any) -> None:
        if kw.get("max_model_len", 0) > 4096:
            raise ValueError("User-specified max_model_len (8192) is greater than the derived max_model_len "
                             "(max_position_embeddings=4096.0 or model_max_length=None in model's config.json).")
        _LLM.init = kw
        mc = types.SimpleNamespace(get_diff_sampling_param=lambda: dict(_LLM.diff))
        core = types.SimpleNamespace(shutdown=lambda: setattr(_LLM, "shutdowns", _LLM.shutdowns + 1))
        self.llm_engine = types.SimpleNamespace(model_config=mc, engine_core=core)

    def chat(self, messages: list[Any], params: list[Any], use_tqdm: bool = True) -> list[_ReqOut]:
        _LLM.calls.append((messages, params))
        if any("TOO LONG" in m[-1]["content"][-1]["text"] for m in messages):
            raise ValueError("prompt is longer than max_model_len")
        if any("OOM" in m[-1]["content"][-1]["text"] for m in messages):
            raise EngineDeadError("EngineCore encountered an issue. See stack trace (above) for the root cause.")
        outs = []
        for m, p in zip(messages, params, strict=True):
            so = p.kw.get("structured_outputs") or p.kw.get("guided_decoding")
            text = so.choice[-1] if so else ("" if "silent" in m[-1]["content"][-1]["text"] else "free text")
            lps = [{7: _Logprob(-0.1, text), 8: _Logprob(-2.5, " A")}] if p.kw.get("logprobs") else None
            outs.append(_ReqOut([_Out(text, [7], lps)]))
        return outs


def _install_fake(monkeypatch: pytest.MonkeyPatch, version: str = "0.33.0", structured: bool = True) -> None:
    vllm = types.ModuleType("vllm")
    sp = types.ModuleType("vllm.sampling_params")
    vllm.__version__ = version  # type: ignore[attr-defined]
    vllm.LLM = _LLM  # type: ignore[attr-defined]
    vllm.SamplingParams = type("SamplingParams", (), {"__init__": lambda self, **kw: setattr(self, "kw", kw)})  # type: ignore[attr-defined]
    choice = type("Choice", (), {"__init__": lambda self, choice=None: setattr(self, "choice", choice)})
    setattr(sp, "StructuredOutputsParams" if structured else "GuidedDecodingParams", choice)
    exc = types.ModuleType("vllm.v1.engine.exceptions")
    exc.EngineDeadError = EngineDeadError  # type: ignore[attr-defined]
    for name, mod in {"vllm": vllm, "vllm.sampling_params": sp, "vllm.v1": types.ModuleType("vllm.v1"),
                      "vllm.v1.engine": types.ModuleType("vllm.v1.engine"), "vllm.v1.engine.exceptions": exc,
                      "vllm.distributed": None, "vllm.distributed.parallel_state": None}.items():
        monkeypatch.setitem(sys.modules, name, mod)
    _LLM.calls, _LLM.shutdowns = [], 0


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> type[_LLM]:
    _install_fake(monkeypatch)
    return _LLM


def test_batch_is_one_chat_call_with_structured_choice(fake_vllm: type[_LLM], image: str) -> None:
    m = create_model("vllm_offline", name="some/model", seed=3, logprobs=2, max_tokens=16,
                     gpu_memory_utilization=0.5)
    rs = [Request(id=str(i), prompt=f"q{i}", images=(image,), choices=("A", "B", "C"), max_tokens=100)
          for i in range(4)]
    out = m.generate([*rs, Request(id="free", prompt="describe"), Request(id="s", prompt="silent")])
    assert len(fake_vllm.calls) == 1 and len(fake_vllm.calls[0][0]) == 6
    assert fake_vllm.init == {"model": "some/model", "seed": 3, "tensor_parallel_size": 1,
                              "enable_prefix_caching": True, "generation_config": "auto",
                              "gpu_memory_utilization": 0.5}  # no max_model_len: the model's own
    p = next(p for p in fake_vllm.calls[0][1] if "structured_outputs" in p.kw)
    assert p.kw["structured_outputs"].choice == ["A", "B", "C"] and p.kw["max_tokens"] == 16 and p.kw["seed"] == 3
    assert sum("structured_outputs" not in p.kw for p in fake_vllm.calls[0][1]) == 2
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


def test_vllm_0_10_uses_guided_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """vLLM 0.10.x has GuidedDecodingParams and SamplingParams(guided_decoding=...), not
    StructuredOutputsParams: the backend works there instead of calling vLLM missing."""
    _install_fake(monkeypatch, "0.10.2", structured=False)
    m = create_model("vllm_offline", name="some/model")
    out = m.generate([Request(id="a", prompt="q", choices=("A", "B"))])
    assert out[0].text == "B" and _LLM.calls[0][1][0].kw["guided_decoding"].choice == ["A", "B"]
    assert m.describe()["choice_field"] == "guided_decoding"


def test_too_old_is_not_called_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    _install_fake(monkeypatch, "0.9.2", structured=False)
    with pytest.raises(BackendError, match=r"vLLM 0\.9\.2 is too old for vllm_offline: it needs vLLM >= 0\.10"):
        create_model("vllm_offline", name="some/model")


def test_a_context_the_model_lacks_is_one_message(fake_vllm: type[_LLM]) -> None:
    """max_model_len defaults to the model's own; an explicit one the model cannot take is a
    BackendError naming the cause, not a traceback."""
    create_model("vllm_offline", name="llava-hf/llava-1.5-7b-hf")
    assert "max_model_len" not in fake_vllm.init
    with pytest.raises(BackendError, match=r"vLLM cannot start llava-hf/llava-1.5-7b-hf: ValueError: "
                                           r"User-specified max_model_len \(8192\)"):
        create_model("vllm_offline", name="llava-hf/llava-1.5-7b-hf", max_model_len=8192)


def test_close_shuts_the_engine_down_and_spawn_is_asked(fake_vllm: type[_LLM],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VLLM_WORKER_MULTIPROC_METHOD", raising=False)
    m = create_model("vllm_offline", name="some/model")
    assert os.environ["VLLM_WORKER_MULTIPROC_METHOD"] == "spawn"
    m.close()
    m.close()
    assert fake_vllm.shutdowns == 1
    with pytest.raises(BackendError, match="closed"):
        m.generate([Request(id="a", prompt="q")])


def test_a_dead_engine_stops_at_once(fake_vllm: type[_LLM]) -> None:
    """EngineDeadError is not a bad prompt: no one-by-one retry (each would fail at once), one
    BackendError instead."""
    m = create_model("vllm_offline", name="some/model")
    rs = [Request(id=str(i), prompt="OOM" if i == 2 else "ok") for i in range(5)]
    with pytest.raises(BackendError, match=r"vLLM's engine died \(EngineDeadError: EngineCore encountered"):
        m.generate(rs)
    assert len(fake_vllm.calls) == 1


def test_decoding_matches_the_server_and_is_recorded(fake_vllm: type[_LLM]) -> None:
    """`vllm serve` fills unset sampling fields from the checkpoint's generation_config; the
    offline backend merges the same ones (not max_tokens, which every request sets) and
    describe() -- run.json -- records the result."""
    m = create_model("vllm_offline", name="some/model", max_tokens=8)
    m.generate([Request(id="a", prompt="q")])
    kw = fake_vllm.calls[0][1][0].kw
    assert kw["repetition_penalty"] == 1.05 and kw["top_k"] == 20 and kw["max_tokens"] == 8
    assert kw["temperature"] == 0.0
    assert m.describe()["decoding"] == {"repetition_penalty": 1.05, "top_k": 20, "temperature": 0.0, "seed": 0}


def test_gpu_sized_batches_keep_an_image_s_questions_together(fake_vllm: type[_LLM], tmp_path: Path) -> None:
    """The runner sends at least batch_size items per call, and requests that share an image
    are adjacent in the call (the prefix cache then encodes the image once), answers in order."""
    from robostress.evaluate.runner import Runner

    imgs = []
    for k in range(2):
        p = tmp_path / f"{k}.png"
        Image.fromarray(np.full((4, 4, 3), 50 * k, np.uint8)).save(p)
        imgs.append(str(p))
    m = create_model("vllm_offline", name="some/model", batch_size=300)
    assert m.batch_hint == 300
    bench = types.SimpleNamespace(items=[], content_hash="x", root=tmp_path, manifest={})
    assert Runner(bench, m, tmp_path / "run", label="x", batch_size=16).batch_size == 300  # type: ignore[arg-type]
    rs = [Request(id=str(i), prompt=f"q{i}", images=(imgs[i % 2],), choices=("A", str(i))) for i in range(6)]
    out = m.generate(rs)
    sent = [msg[-1]["content"][0]["image_url"]["url"] for msg in fake_vllm.calls[0][0]]
    assert sent[:3] == [sent[0]] * 3 and sent[3:] == [sent[3]] * 3 and sent[0] != sent[3]
    assert [r.text for r in out] == [str(i) for i in range(6)]
    assert fake_vllm.init["enable_prefix_caching"] is True
