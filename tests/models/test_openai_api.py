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
                            "logprobs": 0, "extra_body": {}}
    assert m._transport is None  # nothing was opened, let alone sent
