"""``openai``: any OpenAI-compatible chat API. The key comes from $OPENAI_API_KEY (or the
variable named by ``api_key_env``); multiple choice is constrained by the prompt only, since
generic APIs do not accept vLLM's ``structured_outputs``."""

from __future__ import annotations

from typing import Any

from robostress.models.base import MODELS
from robostress.models.http_client import ChatClient


def _openai(name: str, base_url: str = "https://api.openai.com/v1", **kw: Any) -> ChatClient:
    kw.setdefault("structured_outputs", False)
    return ChatClient(name, base_url, **kw)


MODELS.add("openai", _openai)
