"""A loopback HTTP server speaking vLLM's OpenAI-compatible protocol, with injectable faults.

For tests and benchmarks of the HTTP backends (vLLM cannot be installed on CPU machines). It
binds 127.0.0.1 only, on a free port, and stops when its context exits.

    with FakeVLLMServer(faults=["500", "429"]) as srv:
        model = create_model("vllm", name=srv.model, base_url=srv.url)

Faults are consumed one per incoming chat request, in order: "500", "429" (with Retry-After),
"timeout" (sleeps ``hang_s``), "malformed" (invalid JSON), "empty" (empty content), "reset"
(the connection is dropped). ``answer(body) -> str`` decides replies (default: the first
allowed choice, else "A").
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Callable
from typing import Any

Answer = Callable[[dict[str, Any]], str]


def _default_answer(body: dict[str, Any]) -> str:
    choice = (body.get("structured_outputs") or {}).get("choice")
    return str(choice[0]) if choice else "A"


class FakeVLLMServer:
    """An in-process aiohttp server on 127.0.0.1 (see module docstring)."""

    def __init__(self, model: str = "fake-vlm", *, latency_s: float = 0.0, answer: Answer | None = None,
                 faults: list[str] | None = None, retry_after: float = 1.0, hang_s: float = 30.0,
                 api_key: str | None = None) -> None:
        self.model, self.latency_s, self.answer = model, latency_s, answer or _default_answer
        self.faults, self.retry_after, self.hang_s, self.api_key = list(faults or []), retry_after, hang_s, api_key
        self.requests: list[dict[str, Any]] = []
        self.in_flight = self.max_in_flight = 0
        self.fault_log: list[str] = []
        self._lock = threading.Lock()
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL including /v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- handlers --------------------------------------------------------------------------------
    async def _models(self, request: Any) -> Any:
        from aiohttp import web

        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": {"message": "bad key"}}, status=401)
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    def _bad(self, msg: str) -> Any:
        from aiohttp import web

        return web.json_response({"error": {"message": msg, "type": "BadRequestError"}}, status=400)

    async def _chat(self, request: Any) -> Any:
        from aiohttp import web

        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            fault = self.faults.pop(0) if self.faults else None
        try:
            if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
                return web.json_response({"error": {"message": "bad key"}}, status=401)
            body = await request.json()
            with self._lock:
                self.requests.append(body)
            err = self._validate(body)
            if err:
                return self._bad(err)
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            if fault:
                self.fault_log.append(fault)
                if fault == "500":
                    return web.json_response({"error": {"message": "boom"}}, status=500)
                if fault == "429":
                    return web.json_response({"error": {"message": "slow down"}}, status=429,
                                             headers={"Retry-After": str(self.retry_after)})
                if fault == "timeout":
                    await asyncio.sleep(self.hang_s)
                if fault == "malformed":
                    return web.Response(text='{"choices": [{"message": ', content_type="application/json")
                if fault == "reset":
                    assert request.transport is not None
                    request.transport.close()
                    return web.Response(text="")
            text = "" if fault == "empty" else self.answer(body)
            return web.json_response(self._completion(body, text))
        finally:
            with self._lock:
                self.in_flight -= 1

    def _validate(self, body: dict[str, Any]) -> str | None:
        if "guided_choice" in body:
            return "guided_choice was removed; use structured_outputs.choice"
        if body.get("model") != self.model:
            return f"model {body.get('model')!r} is not served"
        msgs = body.get("messages")
        if not isinstance(msgs, list) or not msgs:
            return "messages must be a non-empty list"
        for m in msgs:
            content = m.get("content")
            if isinstance(content, list):
                for part in content:
                    if part.get("type") == "image_url":
                        url = part.get("image_url", {}).get("url", "")
                        if not url.startswith("data:image/"):
                            return "image_url must be a data URL"
                        base64.b64decode(url.split(",", 1)[1], validate=True)
                    elif part.get("type") != "text":
                        return f"unknown content part {part.get('type')!r}"
        return None

    def _completion(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text},
                                  "finish_reason": "stop"}
        if body.get("logprobs"):
            options = (body.get("structured_outputs") or {}).get("choice") or [text]
            top = [{"token": o, "logprob": 0.0 if o == text else -3.0 - i} for i, o in enumerate(options)]
            choice["logprobs"] = {"content": [{"token": text, "logprob": 0.0, "top_logprobs": top}]}
        prompt_tokens = sum(len(json.dumps(m)) // 4 for m in body["messages"])
        return {"id": "cmpl-fake", "object": "chat.completion", "model": self.model, "choices": [choice],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": max(1, len(text) // 4),
                          "total_tokens": prompt_tokens + max(1, len(text) // 4)}}

    # -- lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> FakeVLLMServer:
        from aiohttp import web

        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application(client_max_size=64 << 20)
            app.router.add_get("/v1/models", self._models)
            app.router.add_post("/v1/chat/completions", self._chat)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake vLLM server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
