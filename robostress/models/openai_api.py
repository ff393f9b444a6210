"""``openai``: any OpenAI-compatible chat API (OpenAI itself, gateways, other servers).

The key comes from $OPENAI_API_KEY (or the variable named by ``api_key_env``), never from a
config file. Generic APIs reject or ignore vLLM's ``structured_outputs``, so it is off by
default and multiple choice is constrained by the prompt alone (the item prompts already ask
for the option letter); set ``structured_outputs=true`` for a server that supports it.

Request fields per model family (OpenAI's API reference and its 400 answers):

- api.openai.com, and any server for a reasoning model: the budget goes in
  ``max_completion_tokens`` (gpt-5 and the o-series answer ``max_tokens`` with HTTP 400
  ``unsupported_parameter``; every current OpenAI chat model takes the new name).
- reasoning models (``o1``/``o3``/``o4``..., ``gpt-5``, ``gpt-5-mini``/``-nano``; not
  ``gpt-5-chat*``, and gpt-5.1+ only with a ``reasoning_effort`` other than ``none``): no
  ``temperature`` (only the default 1 is accepted) and no ``logprobs``. Their
  ``max_completion_tokens`` counts the reasoning tokens too, so a small budget ends in an
  empty reply with ``finish_reason: length``, which is recorded once and not retried.

A model the rule misses is adapted at its first 400 (see ``ChatClient``).
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from robostress.models.http_client import ChatClient

log = logging.getLogger(__name__)
_REASONING = re.compile(r"o\d|gpt-5(?![.]|-chat)")  # o1, o3-mini, o4-mini, gpt-5, gpt-5-mini ...
MIN_REASONING_BUDGET = 1024


def is_reasoning_model(name: str, extra_body: dict[str, Any] | None = None) -> bool:
    """Whether ``name`` (a gateway prefix such as ``openai/`` aside) is a model that reasons
    before answering and refuses sampling fields."""
    n = name.rsplit("/", 1)[-1].lower()
    if n.startswith("gpt-5.") and not n.startswith("gpt-5.0"):  # 5.1+: reasoning off by default
        return str((extra_body or {}).get("reasoning_effort", "none")) != "none"
    return bool(_REASONING.match(n))


class OpenAIChat(ChatClient):
    """An OpenAI-compatible chat API; see ChatClient for the settings."""

    name = "openai"

    def __init__(self, name: str, base_url: str = "https://api.openai.com/v1", *,
                 api_key_env: str = "OPENAI_API_KEY", concurrency: int = 8,
                 structured_outputs: bool = False, **kw: Any) -> None:
        reasoning = is_reasoning_model(str(name), kw.get("extra_body"))
        host = (urlsplit(str(base_url)).hostname or "").lower()
        if reasoning or host == "api.openai.com":
            self.token_field = "max_completion_tokens"
        if reasoning:
            self.send_temperature = False
            if int(kw.get("logprobs", 0)) > 0:
                log.warning("%s is a reasoning model and returns no logprobs; logprobs is ignored", name)
                kw["logprobs"] = 0
            if int(kw.get("max_tokens", 64)) < MIN_REASONING_BUDGET:
                log.warning("%s counts its reasoning tokens in max_tokens=%s; replies will often be empty "
                            "(finish_reason length): set model.max_tokens=%d or more", name,
                            kw.get("max_tokens", 64), 4 * MIN_REASONING_BUDGET)
        super().__init__(name, base_url, api_key_env=api_key_env, concurrency=concurrency,
                         structured_outputs=structured_outputs, **kw)
