"""``vllm``: a model served by ``vllm serve`` (OpenAI-compatible), with constrained choice.

Multiple choice is constrained with ``structured_outputs: {"choice": [...]}`` — the current
vLLM request field (the old ``guided_choice`` was removed and is silently ignored by newer
servers, so it is never sent).
"""

from __future__ import annotations

from typing import Any

from robostress.models.base import MODELS
from robostress.models.http_client import ChatClient


class VLLMServer(ChatClient):
    """A vLLM OpenAI-compatible server."""

    name = "vllm"

    def __init__(self, name: str, base_url: str = "http://127.0.0.1:8000/v1", *,
                 api_key_env: str = "VLLM_API_KEY", concurrency: int = 32, structured_outputs: bool = True,
                 **kw: Any) -> None:
        super().__init__(name, base_url, api_key_env=api_key_env, concurrency=concurrency,
                         structured_outputs=structured_outputs, **kw)


MODELS.add("vllm", VLLMServer)
