"""The ``openai`` backend (any OpenAI-compatible API) against the loopback fake server."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from robostress.errors import BackendError
from robostress.models.base import Request, create_model
from robostress.testing.fake_vllm import FakeVLLMServer


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    p = tmp_path_factory.mktemp("img") / "x.png"
    Image.fromarray(np.full((8, 8, 3), 90, np.uint8)).save(p)
    return str(p)


def mc(image: str) -> list[Request]:
    return [Request(id="a", prompt="Which?\nA. x\nB. y\nAnswer with the letter.", images=(image,), choices=("A", "B"))]


def test_key_from_openai_api_key_and_no_structured_outputs(image: str, monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-secret")
    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    with caplog.at_level(logging.DEBUG), FakeVLLMServer(api_key="sk-openai-secret", answer=lambda b: "B") as srv, \
            create_model("openai", name=srv.model, base_url=srv.url) as m:
        out = m.generate(mc(image))
        shown = repr(m) + str(m.describe()) + caplog.text
    assert out[0].text == "B" and out[0].error is None
    assert "structured_outputs" not in srv.requests[0]  # generic APIs: constrained by the prompt only
    assert srv.requests[0]["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert m.describe()["backend"] == "openai" and "sk-openai-secret" not in shown


def test_vllm_key_is_not_used_and_a_missing_key_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("VLLM_API_KEY", "sk-openai-secret")
    with FakeVLLMServer(api_key="sk-openai-secret") as srv:
        with pytest.raises(BackendError, match=r"HTTP 401: the API key in \$OPENAI_API_KEY is missing or wrong"):
            create_model("openai", name=srv.model, base_url=srv.url)


def test_structured_outputs_is_opt_in(image: str) -> None:
    with FakeVLLMServer() as srv, create_model("openai", name=srv.model, base_url=srv.url,
                                               structured_outputs=True, seed=7, temperature=0.5) as m:
        assert m.generate(mc(image))[0].text == "A"
    body = srv.requests[0]
    assert body["structured_outputs"] == {"choice": ["A", "B"]} and body["seed"] == 7 and body["temperature"] == 0.5


def test_default_base_url_is_openai_and_not_contacted_without_check() -> None:
    m = create_model("openai", name="gpt-4o-mini", check=False)
    assert m.describe() == {"backend": "openai", "base_url": "https://api.openai.com/v1", "name": "gpt-4o-mini",
                            "max_tokens": 64, "temperature": 0.0, "seed": 0, "structured_outputs": False,
                            "logprobs": 0, "extra_body": {}, "token_field": "max_completion_tokens"}
    assert m._transport is None  # nothing was opened, let alone sent


def test_reasoning_models_get_max_completion_tokens_and_no_temperature(image: str) -> None:
    """gpt-5 and the o-series answer max_tokens and temperature=0 with HTTP 400 (OpenAI's exact
    bodies in the fake): by family, the first request is already right."""
    for name in ("gpt-5-mini", "o4-mini", "openai/o3"):
        with FakeVLLMServer(model=name, reasoning_model=True) as srv, \
                create_model("openai", name=name, base_url=srv.url, max_tokens=4096) as m:
            out = m.generate(mc(image) * 3)
        assert [r.error for r in out] == [None] * 3 and not srv.rejected, name
        body = srv.requests[0]
        assert body["max_completion_tokens"] == 64 and "max_tokens" not in body and "temperature" not in body
        assert m.describe()["temperature"] is None and m.describe()["token_field"] == "max_completion_tokens"


def test_gpt_4o_and_gpt_5_1_keep_temperature() -> None:
    for name in ("gpt-4o", "gpt-5.1", "gpt-5-chat-latest", "gpt-4.1-mini"):
        m = create_model("openai", name=name, check=False)
        assert m.body(Request(id="a", prompt="q"))["temperature"] == 0.0, name
    m = create_model("openai", name="gpt-5.2", check=False, extra_body={"reasoning_effort": "high"})
    assert "temperature" not in m.body(Request(id="a", prompt="q"))


def test_an_unknown_model_that_refuses_a_field_is_adapted_once(image: str, caplog: pytest.LogCaptureFixture) -> None:
    """A model the family rule does not know (here behind a gateway with max_tokens by default):
    the first 400 unsupported_parameter / unsupported_value moves the budget and drops
    temperature; no item fails and the rest of the run sends the adapted body."""
    with caplog.at_level(logging.WARNING), FakeVLLMServer(model="corp-reasoner", reasoning_model=True) as srv, \
            create_model("openai", name="corp-reasoner", base_url=srv.url, concurrency=1) as m:
        out = m.generate(mc(image) * 4)
    assert [r.error for r in out] == [None] * 4
    assert len(srv.rejected) == 2 and "max_tokens" in srv.rejected[0] and "temperature" in srv.rejected[1]
    assert all("max_completion_tokens" in b and "temperature" not in b for b in srv.requests)
    assert sum("from now on" in r.getMessage() for r in caplog.records) == 2


def test_an_empty_reply_cut_by_length_is_not_retried(image: str) -> None:
    """finish_reason length with no content: the same request would spend its budget the same
    way, so it is one failure (one bill), not five."""
    with FakeVLLMServer(faults=["length"] * 5) as srv, \
            create_model("openai", name=srv.model, base_url=srv.url, backoff_s=0.01) as m:
        out = m.generate(mc(image))
    assert len(srv.requests) == 1 and out[0].extra["tries"] == 1
    assert out[0].error is not None and "finish_reason length" in out[0].error and "raise model.max_tokens" in out[0].error
