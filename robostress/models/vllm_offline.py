"""``vllm_offline``: vLLM in-process (``LLM.chat``) for batch GPU jobs.

vLLM ships CUDA wheels only; it is imported when this backend is created, never before. A
batch is one ``LLM.chat`` call with one ``SamplingParams`` per request; multiple choice is
constrained with ``StructuredOutputsParams(choice=...)`` (the successor of the removed
``GuidedDecodingParams``). Images go in as the same base64 data URLs the server backend sends.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from robostress.errors import BackendError, ConfigError
from robostress.models.base import Model, Request, Response
from robostress.models.http_client import chat_messages

INSTALL_HINT = ("the vllm_offline backend needs vLLM, which is not installed here: "
                "pip install 'robostress[vllm]' on a CUDA machine (or use model=vllm with `vllm serve`)")


def offline_messages(requests: Sequence[Request]) -> list[list[dict[str, Any]] | str]:
    """One OpenAI-style conversation per request for ``LLM.chat`` (images as data URLs), or
    the reason it could not be built (an unreadable image) in its place."""
    out: list[list[dict[str, Any]] | str] = []
    for r in requests:
        try:
            out.append(chat_messages(r))
        except OSError as e:
            out.append(f"cannot read image {e.filename!r} ({type(e).__name__})")
    return out


def first_token_logprobs(logprobs: Any, options: Sequence[str] | None) -> dict[str, float] | None:
    """Options' log-probabilities from vLLM's first-position ``{token_id: Logprob}`` map."""
    if not options or not logprobs:
        return None
    out: dict[str, float] = {}
    for lp in sorted(logprobs[0].values(), key=lambda x: -x.logprob):
        tok = (lp.decoded_token or "").strip()
        if tok in options and tok not in out:
            out[tok] = float(lp.logprob)
    return out or None


class VLLMOffline(Model):
    """vLLM's LLM engine in this process.

    Args:
        name: a Hugging Face model id or a local path (served offline if the hub is unreachable).
        max_tokens: upper bound on generated tokens (a request may ask for fewer).
        temperature, seed: decoding settings.
        logprobs: if > 0, return first-token log-probabilities of the options.
        tensor_parallel_size, max_model_len: engine settings; ``**engine`` passes any other
            ``LLM(...)`` argument (e.g. ``limit_mm_per_prompt``, ``gpu_memory_utilization``).
    """

    name = "vllm_offline"

    def __init__(self, name: str, *, max_tokens: int = 64, temperature: float = 0.0, seed: int = 0,
                 logprobs: int = 0, tensor_parallel_size: int = 1, max_model_len: int = 8192,
                 **engine: Any) -> None:
        if not name or name == "???":
            raise ConfigError("vllm_offline: model.name is required (a model id or path)")
        try:
            from vllm import LLM, SamplingParams  # optional and heavy: only this backend needs it
            from vllm.sampling_params import StructuredOutputsParams
        except ImportError:
            raise BackendError(INSTALL_HINT) from None
        self._sampling, self._structured = SamplingParams, StructuredOutputsParams
        self.model_name, self.max_tokens, self.temperature = name, int(max_tokens), float(temperature)
        self.seed, self.logprobs = int(seed), int(logprobs)
        self.engine = {"tensor_parallel_size": tensor_parallel_size, "max_model_len": max_model_len, **engine}
        self.llm = LLM(model=name, seed=self.seed, **self.engine)

    def describe(self) -> dict[str, Any]:
        """Model, decoding and engine settings."""
        return {"backend": self.name, "name": self.model_name, "max_tokens": self.max_tokens,
                "temperature": self.temperature, "seed": self.seed, "logprobs": self.logprobs,
                "engine": {k: v if isinstance(v, (int, float, str, bool)) else str(v)
                           for k, v in sorted(self.engine.items())}}

    def sampling_params(self, r: Request) -> Any:
        """The SamplingParams of one request."""
        kw: dict[str, Any] = {"max_tokens": min(r.max_tokens or self.max_tokens, self.max_tokens),
                              "temperature": self.temperature, "seed": self.seed}
        if r.choices:
            kw["structured_outputs"] = self._structured(choice=list(r.choices))
        if self.logprobs > 0:
            kw["logprobs"] = self.logprobs
        return self._sampling(**kw)

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """One batched ``LLM.chat`` call; if vLLM rejects the batch (one prompt too long, say),
        the requests are retried one by one so that only the bad ones fail."""
        msgs = offline_messages(requests)
        res: list[Response | None] = [Response(text="", error=m) if isinstance(m, str) else None for m in msgs]
        todo = [i for i, r in enumerate(res) if r is None]
        if not todo:
            return [r for r in res if r is not None]
        t0 = time.perf_counter()
        try:
            outs = self.llm.chat([msgs[i] for i in todo], [self.sampling_params(requests[i]) for i in todo],
                                 use_tqdm=False)
        except Exception as e:  # vLLM raises ValueError & co. for a bad prompt, failing the batch
            if len(todo) == 1:
                res[todo[0]] = Response(text="", error=f"vLLM rejected the request ({type(e).__name__}: {str(e)[:200]})")
            else:
                for i in todo:
                    res[i] = self.generate([requests[i]])[0]
            return [r for r in res if r is not None]
        latency = (time.perf_counter() - t0) / len(todo)
        for i, o in zip(todo, outs, strict=True):
            res[i] = self._response(o, requests[i], latency)
        return [r for r in res if r is not None]

    def _response(self, o: Any, r: Request, latency: float) -> Response:
        c = o.outputs[0] if o.outputs else None
        text = c.text if c is not None else ""
        return Response(text=text if text.strip() else "", error=None if text.strip() else "empty content",
                        latency_s=latency, prompt_tokens=len(o.prompt_token_ids or []),
                        completion_tokens=len(c.token_ids) if c is not None else 0,
                        logprobs=first_token_logprobs(c.logprobs, r.choices) if c is not None else None)

    def close(self) -> None:
        """Drop the engine (vLLM frees GPU memory when it is collected)."""
        self.llm = None
