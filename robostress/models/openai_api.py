"""``openai``: any OpenAI-compatible chat API (OpenAI itself, gateways, other servers).

The key comes from $OPENAI_API_KEY (or the variable named by ``api_key_env``), never from a
config file. Generic APIs reject or ignore vLLM's ``structured_outputs``, so it is off by
default and multiple choice is constrained by the prompt alone (the item prompts already ask
for the option letter); set ``structured_outputs=true`` for a server that supports it.
"""

from __future__ import annotations

from typing import Any

from robostress.models.http_client import ChatClient


class OpenAIChat(ChatClient):
    """An OpenAI-compatible chat API; see ChatClient for the settings."""

    name = "openai"

    def __init__(self, name: str, base_url: str = "https://api.openai.com/v1", *,
                 api_key_env: str = "OPENAI_API_KEY", concurrency: int = 8,
                 structured_outputs: bool = False, **kw: Any) -> None:
        super().__init__(name, base_url, api_key_env=api_key_env, concurrency=concurrency,
                         structured_outputs=structured_outputs, **kw)
