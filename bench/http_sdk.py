"""The `openai` SDK's AsyncOpenAI as the transport of the vllm backend, to measure against
the hand-written aiohttp client (robostress/models/http_client.py). Not used by the package.

Same request bodies, bound on requests in flight, private event loop and Response mapping as
ChatClient; only the transport differs: retries (408/409/429/5xx, timeouts, connection
errors), Retry-After and timeouts are the SDK's, ``structured_outputs`` goes in
``extra_body``. What this measures and what was kept is written in docs/http_client.md.

    pip install openai
    python bench/http_sdk.py faults      # tests/models/test_vllm_server.py with this transport
    python bench/http_sdk.py eval [64]   # bench/eval.py's two cases, hand-written vs SDK
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from robostress.models.base import Request, Response  # noqa: E402
from robostress.models.http_client import (  # noqa: E402
    RETRY_STATUS,
    ChatClient,
    _fail,
    _server_message,
    option_logprobs,
)  # noqa: E402

STANDARD = ("max_tokens", "temperature", "seed", "logprobs", "top_logprobs")


class SDKChatClient(ChatClient):
    """ChatClient whose requests go through ``openai.AsyncOpenAI`` (see the module docstring)."""

    name = "vllm"

    def __init__(self, name: str, base_url: str = "http://127.0.0.1:8000/v1", *, api_key_env: str = "VLLM_API_KEY",
                 concurrency: int = 32, structured_outputs: bool = True, **kw: Any) -> None:
        self._sdk: Any = None
        self._sem: asyncio.Semaphore | None = None
        super().__init__(name, base_url, api_key_env=api_key_env, concurrency=concurrency,
                         structured_outputs=structured_outputs, **kw)

    def _client(self) -> tuple[Any, asyncio.Semaphore]:
        import httpx2
        from openai import AsyncOpenAI

        if self._sdk is None:  # created on the private loop, so its connection pool lives there
            limits = httpx2.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
            self._sdk = AsyncOpenAI(base_url=self.base_url, api_key=os.environ.get(self.api_key_env) or "EMPTY",
                                    max_retries=self.max_retries, timeout=self.timeout_s,
                                    http_client=httpx2.AsyncClient(limits=limits, timeout=self.timeout_s))
            self._sem = asyncio.Semaphore(self.concurrency)
        assert self._sem is not None
        return self._sdk, self._sem

    def close(self) -> None:
        if self._sdk is not None and self._transport is not None:
            self._run(self._sdk.close())
        self._sdk = None
        super().close()

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        async def batch() -> list[Response]:
            sdk, sem = self._client()

            async def bounded(r: Request) -> Response:
                async with sem:
                    return await self._one_sdk(sdk, r)

            return list(await asyncio.gather(*(bounded(r) for r in requests)))

        return self._run(batch()) if requests else []

    async def _one_sdk(self, sdk: Any, r: Request) -> Response:
        import openai

        t0 = time.perf_counter()
        try:
            body = self.body(r)
        except OSError as e:
            return _fail(f"cannot read image {e.filename!r} ({type(e).__name__})", t0, 0)
        std = {k: body.pop(k) for k in STANDARD if k in body}
        model, messages = body.pop("model"), body.pop("messages")
        try:
            raw = await sdk.chat.completions.with_raw_response.create(model=model, messages=messages, **std,
                                                                     extra_body=body)
            comp = raw.parse()
        except openai.APIStatusError as e:
            if e.status_code not in RETRY_STATUS:
                return _fail(f"HTTP {e.status_code} (not retried){_server_message(e.response.content)}", t0, 1)
            return _fail(f"HTTP {e.status_code} after {self.max_retries + 1} tries", t0, self.max_retries + 1)
        except openai.APITimeoutError:
            return _fail(f"timeout ({self.timeout_s:g}s) after {self.max_retries + 1} tries", t0, self.max_retries + 1)
        except openai.APIConnectionError as e:
            cause = type(e.__cause__).__name__ if e.__cause__ else type(e).__name__
            return _fail(f"connection error ({cause}) after {self.max_retries + 1} tries", t0, self.max_retries + 1)
        except (openai.APIResponseValidationError, ValueError):
            return _fail("malformed JSON", t0, raw.retries_taken + 1 if "raw" in locals() else 1)
        tries = raw.retries_taken + 1
        text = comp.choices[0].message.content if comp.choices else None
        if not isinstance(text, str) or not text.strip():
            return _fail("empty content", t0, tries)
        choice = comp.choices[0].model_dump()
        usage = comp.usage
        return Response(text=text, latency_s=time.perf_counter() - t0, extra={"tries": tries},
                        prompt_tokens=usage.prompt_tokens if usage else None,
                        completion_tokens=usage.completion_tokens if usage else None,
                        logprobs=option_logprobs(choice, r.choices))


def _install() -> None:
    """Make ``create_model("vllm", ...)`` build the SDK client (for the fault tests)."""
    from robostress.models.base import MODELS  # the built-in "vllm" is registered on import

    MODELS._items["vllm"] = SDKChatClient


def pytest_configure(config: Any) -> None:  # loaded with `pytest -p bench.http_sdk`
    _install()


if __name__ == "__main__":
    import subprocess

    here = Path(__file__).resolve().parents[1]
    what = sys.argv[1] if len(sys.argv) > 1 else "faults"
    if what == "faults":
        sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "bench.http_sdk",
                                  "tests/models/test_vllm_server.py", *sys.argv[2:]], cwd=here))
    sys.path.insert(0, str(here / "bench"))
    from eval import (  # type: ignore[import-not-found]
        ServerProcess,
        backend,
        make_image,
        make_requests,
        ratio_line,
        raw_client,
        sequential,
    )

    from robostress.models.vllm_server import VLLMServer

    c = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    reqs = make_requests(1000, str(make_image(64)))
    clients = {"hand-written": VLLMServer, "openai SDK": SDKChatClient}
    pairs_a: dict[str, list[tuple[float, float]]] = {k: [] for k in clients}
    with ServerProcess() as (url, name):
        for label, cls in clients.items():
            with cls(name, url, concurrency=c) as m:
                bodies = [m.body(r) for r in reqs[:400]]
                backend(m, reqs[:100]), raw_client(url, bodies[:100], c)
                for k in range(5):  # alternate which goes first
                    if k % 2 == 0:
                        h = backend(m, reqs[:400])
                        raw = raw_client(url, bodies, c)
                    else:
                        raw = raw_client(url, bodies, c)
                        h = backend(m, reqs[:400])
                    pairs_a[label].append((h, raw))
    pairs_b: dict[str, list[tuple[float, float]]] = {k: [] for k in clients}
    with ServerProcess(latency_s=0.05) as (url, name):
        for label, cls in clients.items():
            with cls(name, url, concurrency=c) as m:
                backend(m, reqs[:c])
                for _ in range(3):
                    pairs_b[label].append((backend(m, reqs), sequential(m, reqs[:60])))
    print(f"{'case':<36}{'backend':>10}{'baseline':>11}{'min':>8}{'median':>10}{'goal':>9}")
    for label in clients:
        print(ratio_line(f"(a) 0 ms c={c} {label}", pairs_a[label], ">= 0.9"))
        print(ratio_line(f"(b) 50 ms c={c} {label}", pairs_b[label], ">= 30x", unit="x"))
