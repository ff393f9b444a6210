"""An async client for OpenAI-compatible chat servers (vLLM's ``vllm serve``, other APIs).

Batch-first: ``generate(requests)`` keeps at most ``concurrency`` requests in flight, retries
5xx / 429 / timeouts / connection errors with seeded exponential back-off (honouring
Retry-After), and turns every per-request failure into a Response with ``error`` set — a
batch never raises because one item failed. The API key is read from an environment variable
at request time and never stored in describe(), logs or exceptions.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import os
import random
import time
from collections.abc import Sequence
from typing import Any

from robostress.errors import BackendError
from robostress.models.base import Model, Request, Response

log = logging.getLogger(__name__)
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
MAX_BODY = 1 << 20  # replies above 1 MiB are refused as malformed
_MIME = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def data_url(path: str) -> str:
    """An image file as a base64 data URL (PNG stays PNG); cached while the file is unchanged,
    since a benchmark asks about 20 questions of every image."""
    st = os.stat(path)
    return _data_url(path, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=256)
def _data_url(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as f:
        raw = f.read()
    mime = next((m for sig, m in _MIME.items() if raw.startswith(sig)), "image/png")
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def chat_messages(r: Request) -> list[dict[str, Any]]:
    """OpenAI chat messages of a request: images first (data URLs), then the prompt."""
    content: list[dict[str, Any]] = [{"type": "image_url", "image_url": {"url": data_url(p)}} for p in r.images]
    content.append({"type": "text", "text": r.prompt})
    msgs: list[dict[str, Any]] = [{"role": "system", "content": r.system}] if r.system else []
    return msgs + [{"role": "user", "content": content}]


class ChatClient(Model):
    """OpenAI-compatible /v1/chat/completions client with bounded concurrency and retries."""

    name = "openai"

    def __init__(self, name: str, base_url: str, *, api_key_env: str = "OPENAI_API_KEY", concurrency: int = 8,
                 timeout_s: float = 120.0, max_retries: int = 4, max_tokens: int = 64, temperature: float = 0.0,
                 seed: int = 0, structured_outputs: bool = False, logprobs: int = 0, check: bool = True,
                 backoff_s: float = 0.5, extra_body: dict[str, Any] | None = None) -> None:
        if not name or name == "???":
            raise BackendError(f"{self.name}: model.name is required (the model the server serves)")
        self.model_name, self.base_url = name, base_url.rstrip("/")
        self.api_key_env, self.concurrency = api_key_env, max(1, int(concurrency))
        self.timeout_s, self.max_retries, self.max_tokens = float(timeout_s), int(max_retries), int(max_tokens)
        self.temperature, self.seed, self.backoff_s = float(temperature), int(seed), float(backoff_s)
        self.structured_outputs, self.logprobs = bool(structured_outputs), int(logprobs)
        self.extra_body = dict(extra_body or {})
        if check:
            self._check()

    def describe(self) -> dict[str, Any]:
        """Backend, URL, model and decoding settings (never the key)."""
        return {"backend": self.name, "base_url": self.base_url, "name": self.model_name,
                "max_tokens": self.max_tokens, "temperature": self.temperature, "seed": self.seed,
                "structured_outputs": self.structured_outputs, "logprobs": self.logprobs,
                "extra_body": self.extra_body}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model_name!r} at {self.base_url})"

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env, "")
        return {"Authorization": f"Bearer {key}"} if key else {}

    # -- health check ---------------------------------------------------------------------------
    def _check(self) -> None:
        async def probe() -> list[str]:
            import aiohttp

            timeout = aiohttp.ClientTimeout(total=min(self.timeout_s, 10.0))
            async with aiohttp.ClientSession(timeout=timeout) as s:
                async with s.get(f"{self.base_url}/models", headers=self._headers()) as resp:
                    if resp.status != 200:
                        raise BackendError(f"{self.base_url}/models answered HTTP {resp.status}")
                    data = json.loads(await resp.content.read(MAX_BODY))
            return [str(m.get("id")) for m in data.get("data", []) if isinstance(m, dict)]

        try:
            served = asyncio.run(probe())
        except BackendError:
            raise
        except Exception as e:  # connection refused, DNS, timeout, bad JSON
            raise BackendError(f"cannot reach the model server at {self.base_url} ({type(e).__name__}); "
                               "is `vllm serve` running and is model.base_url right?") from None
        if served and self.model_name not in served:
            raise BackendError(f"the server at {self.base_url} does not serve {self.model_name!r}; "
                               f"it serves: {', '.join(served)}")

    # -- requests -------------------------------------------------------------------------------
    def body(self, r: Request) -> dict[str, Any]:
        """The JSON body of one chat completion request."""
        b: dict[str, Any] = {"model": self.model_name, "messages": chat_messages(r),
                             "max_tokens": r.max_tokens or self.max_tokens, "temperature": self.temperature,
                             "seed": self.seed, **self.extra_body}
        if r.choices and self.structured_outputs:
            b["structured_outputs"] = {"choice": list(r.choices)}
        if self.logprobs:
            b["logprobs"], b["top_logprobs"] = True, self.logprobs
        return b

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Answer every request; per-item failures become Responses with ``error``."""
        if not requests:
            return []
        return asyncio.run(self._run(list(requests)))

    async def _run(self, requests: list[Request]) -> list[Response]:
        import aiohttp

        sem = asyncio.Semaphore(self.concurrency)
        conn = aiohttp.TCPConnector(limit=self.concurrency)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with aiohttp.ClientSession(connector=conn, timeout=timeout, headers=self._headers()) as s:
            async def one(i: int, r: Request) -> Response:
                async with sem:
                    return await self._one(s, r, random.Random(self.seed * 1_000_003 + i))
            return list(await asyncio.gather(*(one(i, r) for i, r in enumerate(requests))))

    async def _one(self, s: Any, r: Request, jitter: random.Random) -> Response:
        import aiohttp

        t0 = time.perf_counter()
        body = self.body(r)
        last = "no attempt"
        for attempt in range(self.max_retries + 1):
            wait = self.backoff_s * (2 ** attempt) * (0.5 + jitter.random())
            try:
                async with s.post(f"{self.base_url}/chat/completions", json=body) as resp:
                    raw = await resp.content.read(MAX_BODY + 1)
                    if resp.status == 200:
                        return self._parse(raw, time.perf_counter() - t0, r)
                    last = f"HTTP {resp.status}"
                    if resp.status not in RETRY_STATUS:
                        break
                    ra = resp.headers.get("Retry-After")
                    if ra is not None:
                        try:
                            wait = min(max(float(ra), 0.0), 60.0)
                        except ValueError:
                            pass
            except asyncio.TimeoutError:
                last = f"timeout after {self.timeout_s:g}s"
            except aiohttp.ClientError as e:
                last = f"connection error ({type(e).__name__})"
            if attempt < self.max_retries:
                await asyncio.sleep(wait)
        return Response(text="", latency_s=time.perf_counter() - t0,
                        error=f"{last} (after {self.max_retries + 1} tries)")

    def _parse(self, raw: bytes, latency: float, r: Request) -> Response:
        if len(raw) > MAX_BODY:
            return Response(text="", latency_s=latency, error="malformed reply (larger than 1 MiB)")
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            return Response(text="", latency_s=latency, error="malformed JSON reply")
        if not isinstance(text, str) or not text.strip():
            return Response(text="", latency_s=latency, error="empty content")
        usage = data.get("usage") or {}
        return Response(text=text, latency_s=latency, prompt_tokens=usage.get("prompt_tokens"),
                        completion_tokens=usage.get("completion_tokens"), logprobs=_choice_logprobs(choice, r))


def _choice_logprobs(choice: dict[str, Any], r: Request) -> dict[str, float] | None:
    """Log-probabilities of the options from the first generated token's top alternatives."""
    try:
        top = choice["logprobs"]["content"][0]["top_logprobs"]
    except (KeyError, IndexError, TypeError):
        return None
    if not r.choices:
        return None
    out = {}
    for t in top:
        tok = str(t.get("token", "")).strip()
        if tok in r.choices and tok not in out:
            out[tok] = float(t.get("logprob", float("-inf")))
    return out or None
