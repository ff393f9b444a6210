"""Requests with two images (the agent sends the original and the edited frame) stay valid for
vLLM's OpenAI-compatible server: checked by the fake server always, and by vLLM's own request
model where its request schema imports (skipped, saying so, where it does not; the `vllm`
backend: docs/models.md)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from robostress.models.base import Request
from robostress.models.vllm_server import VLLMServer
from robostress.testing.fake_vllm import FakeVLLMServer, validate


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    d = tmp_path_factory.mktemp("frames")
    out = []
    for i, v in enumerate((30, 220)):
        p = d / f"{i}.png"
        Image.fromarray(np.full((12, 16, 3), v, np.uint8)).save(p)
        out.append(str(p))
    return out


def two_image_requests(frames: list[str]) -> list[Request]:
    return [Request(id="orig+edit", prompt="The first image is the original, the second the edited one.\nA. red\nB. blue",
                    images=tuple(frames), choices=("A", "B"), system="Answer with the letter."),
            Request(id="one", prompt="Where is the mug?", images=(frames[0],), max_tokens=16)]


def bodies(frames: list[str], **kw: Any) -> list[dict[str, Any]]:
    m = VLLMServer("served/vlm", check=False, **kw)
    return [m.body(r) for r in two_image_requests(frames)]


def test_two_images_reach_the_server_in_order(frames: list[str]) -> None:
    with FakeVLLMServer(model="served/vlm") as srv, \
            VLLMServer(srv.model, srv.url, logprobs=2) as m:
        out = m.generate(two_image_requests(frames))
    assert [r.error for r in out] == [None, None] and out[0].text in ("A", "B")
    body = next(b for b in srv.requests if b["messages"][-1]["content"][-1]["text"].startswith("The first"))
    assert body["messages"][0] == {"role": "system", "content": "Answer with the letter."}
    parts = body["messages"][1]["content"]
    assert [p["type"] for p in parts] == ["image_url", "image_url", "text"]
    for part, path in zip(parts, frames, strict=False):  # each image its own bytes, in request order
        assert base64.b64decode(part["image_url"]["url"].split(",", 1)[1]) == Path(path).read_bytes()
    assert body["structured_outputs"] == {"choice": ["A", "B"]} and not any(k.startswith("guided") for k in body)


def test_bodies_validate_against_vllms_own_request_model(frames: list[str]) -> None:
    protocol = pytest.importorskip("vllm.entrypoints.openai.chat_completion.protocol",
                                   reason="vllm's request schema is not installed here")
    for b in bodies(frames, logprobs=3):
        assert validate(b, "served/vlm") is None  # the fake server agrees with vLLM
        req = protocol.ChatCompletionRequest.model_validate(b)
        assert not req.model_extra  # vLLM accepts unknown fields and drops them
        sp = req.to_sampling_params(max_tokens=64, default_sampling_params={})
        n_images = sum(p.get("type") == "image_url" for p in req.messages[-1]["content"])
        assert sp.temperature == 0.0 and sp.seed == 0 and sp.logprobs == 3
        if "structured_outputs" in b:
            assert n_images == 2 and sp.structured_outputs.choice == ["A", "B"]
        else:
            assert n_images == 1 and sp.structured_outputs is None and req.max_tokens == 16
