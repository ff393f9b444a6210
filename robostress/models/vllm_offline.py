"""``vllm_offline``: vLLM in-process (``LLM.chat``) for batch GPU jobs.

vLLM ships CUDA wheels only; it is imported when this backend is chosen, never before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from robostress.errors import BackendError
from robostress.models.base import MODELS, Model, Request, Response
from robostress.models.http_client import chat_messages

INSTALL_HINT = "vLLM is not installed: on a CUDA machine run `pip install 'robostress[vllm]'`"


def offline_messages(requests: Sequence[Request]) -> list[list[dict[str, Any]]]:
    """LLM.chat accepts the same OpenAI-style messages (images as data URLs)."""
    return [chat_messages(r) for r in requests]


class VLLMOffline(Model):
    """vLLM's LLM engine in this process."""

    name = "vllm_offline"

    def __init__(self, name: str, *, max_tokens: int = 64, temperature: float = 0.0, seed: int = 0,
                 tensor_parallel_size: int = 1, max_model_len: int = 8192, **engine: Any) -> None:
        try:
            from vllm import LLM, SamplingParams
        except ImportError:
            raise BackendError(INSTALL_HINT) from None
        self._SamplingParams = SamplingParams
        self.model_name, self.max_tokens, self.temperature, self.seed = name, max_tokens, temperature, seed
        self.llm = LLM(model=name, seed=seed, tensor_parallel_size=tensor_parallel_size,
                       max_model_len=max_model_len, **engine)

    def describe(self) -> dict[str, Any]:
        """Model and decoding settings."""
        return {"backend": self.name, "name": self.model_name, "max_tokens": self.max_tokens,
                "temperature": self.temperature, "seed": self.seed}

    def _params(self, r: Request) -> Any:
        kw: dict[str, Any] = {"max_tokens": r.max_tokens or self.max_tokens, "temperature": self.temperature,
                              "seed": self.seed}
        if r.choices:
            from vllm.sampling_params import StructuredOutputsParams

            kw["structured_outputs"] = StructuredOutputsParams(choice=list(r.choices))
        return self._SamplingParams(**kw)

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """One batched LLM.chat call."""
        outs = self.llm.chat(offline_messages(requests), [self._params(r) for r in requests], use_tqdm=False)
        res = []
        for o in outs:
            text = o.outputs[0].text if o.outputs else ""
            res.append(Response(text=text, error=None if text.strip() else "empty content",
                                prompt_tokens=len(o.prompt_token_ids or []),
                                completion_tokens=len(o.outputs[0].token_ids) if o.outputs else 0))
        return res


MODELS.add("vllm_offline", VLLMOffline)
