"""A loopback HTTP server speaking vLLM's OpenAI-compatible protocol, with injectable faults.

For trying, testing and benchmarking the HTTP backends without a GPU (vLLM cannot be installed
on CPU machines): the tests and bench/eval.py use it (``from robostress.testing.fake_vllm import
FakeVLLMServer``), and so can a user checking a setup before pointing it at a real server. It
binds 127.0.0.1 only, on a free port, serves from its own thread, and stops when its context
exits; it handles hundreds of concurrent connections.

    with FakeVLLMServer(faults=["500", "429"]) as srv:
        model = create_model("vllm", name=srv.model, base_url=srv.url)

Requests are validated as vLLM would (400 with a reason otherwise): messages with text and
``image_url`` parts whose URLs are base64 data URLs, ``structured_outputs.choice`` as a list
of strings, ``top_logprobs`` only with ``logprobs``; a body carrying the removed
``guided_*`` fields is rejected, so a client regressing to them is caught.

``version`` is what ``GET /version`` answers (None: no such route, as on a non-vLLM server).
Below 0.11 the server behaves as vLLM 0.10.x: ``guided_choice`` constrains, and the then
unknown ``structured_outputs`` is ignored (logged by that server only), so the reply is
unconstrained. ``reasoning_model=True`` answers as OpenAI's gpt-5 / o-series do: HTTP 400 with
OpenAI's exact error bodies for ``max_tokens`` (use ``max_completion_tokens``) and for a
``temperature`` other than 1.

Faults: "500", "429" (with Retry-After), "timeout" (holds the reply ``hang_s``), "malformed"
(invalid JSON with status 200), "empty" (empty content), "length" (empty content with
``finish_reason: length``, a reasoning model that spent its budget thinking), "reset" (TCP reset), "truncated" (status
200 and a Content-Length, then the connection closes after half the body). ``faults`` is a
list consumed one per chat request in arrival order, or a callable ``(body, index) -> fault
or None`` for schedules that must not depend on arrival order. ``answer(body) -> str``
decides replies (default: the first allowed choice, else "A"); with ``structured_outputs``
the reply is always one of the choices, as a constrained decoder's would be.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from robostress.core.version import version_tuple

Answer = Callable[[dict[str, Any]], str]
FaultPolicy = Callable[[dict[str, Any], int], "str | None"]
FAULTS = ("500", "429", "timeout", "malformed", "empty", "length", "reset", "truncated")
# OpenAI's HTTP 400 bodies for fields gpt-5 and the o-series refuse (verbatim but for the value)
OPENAI_MAX_TOKENS_ERROR = {"error": {
    "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
               "Use 'max_completion_tokens' instead.",
    "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}}


def openai_temperature_error(value: Any) -> dict[str, Any]:
    """OpenAI's HTTP 400 body for a temperature other than 1 on a reasoning model."""
    return {"error": {"message": f"Unsupported value: 'temperature' does not support {value} with this model. "
                                 "Only the default (1) value is supported.",
                      "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value"}}


_DATA_URL = re.compile(r"data:image/(png|jpeg|webp);base64,(.+)", re.S)
_REMOVED = ("guided_choice", "guided_json", "guided_regex", "guided_grammar", "guided_decoding_backend")


def first_choice(body: dict[str, Any]) -> str:
    """The default answer policy: the first allowed choice, else "A"."""
    choice = (body.get("structured_outputs") or {}).get("choice")
    return str(choice[0]) if choice else "A"


def prompt_text(body: dict[str, Any]) -> str:
    """The text of the last user message (what answer policies usually look at)."""
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return "\n".join(p["text"] for p in content if p.get("type") == "text")


def validate(body: Any, model: str, version: str | None = None) -> str | None:
    """Why vLLM would reject this chat completion body, or None if it is well formed (the
    ``guided_*`` fields are accepted below vLLM 0.11 only)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    legacy = version is not None and version_tuple(version) < (0, 11)
    if not legacy and (removed := [k for k in _REMOVED if k in body]):
        return f"{removed[0]} was removed; use structured_outputs"
    if body.get("model") != model:
        return f"the model {body.get('model')!r} does not exist"
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "messages must be a non-empty list"
    for m in msgs:
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            return "each message needs a role of system, user or assistant"
        parts = m.get("content")
        parts = [{"type": "text", "text": parts}] if isinstance(parts, str) else parts
        if not isinstance(parts, list) or not parts:
            return "message content must be a string or a non-empty list of parts"
        for p in parts:
            if err := _validate_part(p):
                return err
    so = body.get("structured_outputs")
    if so is not None:
        choice = so.get("choice") if isinstance(so, dict) else None
        if not (isinstance(choice, list) and choice and all(isinstance(c, str) for c in choice)):
            return "structured_outputs.choice must be a non-empty list of strings"
    if "top_logprobs" in body and (body.get("logprobs") is not True or not isinstance(body["top_logprobs"], int)
                                   or not 0 <= body["top_logprobs"] <= 20):
        return "top_logprobs must be an integer in [0, 20] and needs logprobs=true"
    for key in ("max_tokens", "max_completion_tokens"):
        mt = body.get(key)
        if mt is not None and (not isinstance(mt, int) or mt < 1):
            return f"{key} must be a positive integer"
    return None


def _validate_part(p: Any) -> str | None:
    if not isinstance(p, dict):
        return "message content must be a string or a list of parts"
    if p.get("type") == "text":
        return None if isinstance(p.get("text"), str) else "a text part needs a string 'text'"
    if p.get("type") != "image_url":
        return f"unknown content part type {p.get('type')!r}"
    m = _DATA_URL.fullmatch(str((p.get("image_url") or {}).get("url", "")))
    if not m:
        return "image_url.url must be a data:image/(png|jpeg|webp);base64 URL"
    try:
        raw = base64.b64decode(m.group(2), validate=True)
    except binascii.Error:
        return "image_url data is not valid base64"
    if m.group(1) == "png" and not raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image_url says PNG but the data is not a PNG"
    return None


class FakeVLLMServer:
    """An in-process aiohttp server on 127.0.0.1 (see the module docstring).

    After (or during) a run, ``requests`` holds every chat body received, ``arrivals`` their
    arrival times (``time.perf_counter``), ``fault_log`` the faults served and
    ``max_in_flight`` the most chat requests open at once.
    """

    def __init__(self, model: str = "fake-vlm", *, latency_s: float = 0.0, answer: Answer | None = None,
                 faults: Sequence[str] | FaultPolicy | None = None, retry_after: float = 1.0,
                 hang_s: float = 30.0, api_key: str | None = None, version: str | None = "0.33.0",
                 reasoning_model: bool = False) -> None:
        if not callable(faults) and (bad := [f for f in faults or [] if f not in FAULTS]):
            raise ValueError(f"unknown fault {bad[0]!r}; choose from {', '.join(FAULTS)}")
        self.model, self.latency_s, self.answer = model, float(latency_s), answer or first_choice
        self._policy = faults if callable(faults) else None
        self.faults = [] if callable(faults) else list(faults or [])
        self.retry_after, self.hang_s, self.api_key = retry_after, float(hang_s), api_key
        self.version, self.reasoning_model = version, bool(reasoning_model)
        self.legacy = version is not None and version_tuple(version) < (0, 11)
        self.rejected: list[dict[str, Any]] = []  # bodies refused with a 400
        self.requests: list[dict[str, Any]] = []
        self.arrivals: list[float] = []
        self.fault_log: list[str] = []
        self.in_flight = self.max_in_flight = self.port = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """Base URL including /v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- handlers --------------------------------------------------------------------------------
    def _unauthorised(self, request: Any) -> Any:
        if self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": {"message": "invalid API key"}}, status=401)
        return None

    async def _models(self, request: Any) -> Any:
        return self._unauthorised(request) or web.json_response(
            {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "vllm"}]})

    async def _version(self, request: Any) -> Any:
        return web.json_response({"version": self.version})

    async def _chat(self, request: Any) -> Any:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer_chat(request)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _answer_chat(self, request: Any) -> Any:
        def error(msg: str, status: int = 400, **headers: str) -> Any:
            return web.json_response({"error": {"message": msg, "code": status}}, status=status, headers=headers)

        if denied := self._unauthorised(request):
            return denied
        try:
            body = json.loads(await request.read())
        except ValueError:
            return error("the body is not valid JSON")
        if err := validate(body, self.model, self.version):
            self.rejected.append(body)
            return error(err)
        if self.reasoning_model and "max_tokens" in body:
            self.rejected.append(body)
            return web.json_response(OPENAI_MAX_TOKENS_ERROR, status=400)
        if self.reasoning_model and body.get("temperature", 1) != 1:
            self.rejected.append(body)
            return web.json_response(openai_temperature_error(body["temperature"]), status=400)
        sent = body
        if self.legacy:  # vLLM 0.10.x: guided_choice constrains; structured_outputs is an unknown field
            body = {k: v for k, v in body.items() if k != "structured_outputs"}
            if "guided_choice" in body:
                body["structured_outputs"] = {"choice": body["guided_choice"]}
        with self._lock:
            index = len(self.requests)
            self.requests.append(sent)
            self.arrivals.append(time.perf_counter())
            fault = self._policy(sent, index) if self._policy else (self.faults.pop(0) if self.faults else None)
            if fault:
                self.fault_log.append(fault)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if fault == "500":
            return error("internal server error", 500)
        if fault == "429":
            return error("too many requests", 429, **{"Retry-After": f"{self.retry_after:g}"})
        if fault == "timeout":
            try:
                await asyncio.wait_for(self._stopping.wait(), self.hang_s)
            except asyncio.TimeoutError:
                pass
        if fault == "malformed":
            return web.Response(text='{"choices": [{"message": ', content_type="application/json")
        if fault == "reset":
            sock = request.transport.get_extra_info("socket")
            if sock is not None:  # linger 0: close() sends RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.transport.abort()
            return web.Response()
        text = "" if fault in ("empty", "length") else self._constrained(body)
        if fault == "truncated":
            full = json.dumps(self._completion(body, text)).encode()
            resp = web.StreamResponse(headers={"Content-Type": "application/json"})
            resp.content_length = len(full)
            await resp.prepare(request)
            await resp.write(full[: len(full) // 2])
            request.transport.close()
            return resp
        done = self._completion(body, text)
        if fault == "length":
            done["choices"][0]["finish_reason"] = "length"
        return web.json_response(done)

    def _constrained(self, body: dict[str, Any]) -> str:
        text = str(self.answer(body))
        choice = (body.get("structured_outputs") or {}).get("choice")
        return choice[0] if choice and text not in choice else text

    def _completion(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text},
                                  "finish_reason": "stop"}
        if body.get("logprobs"):
            options = (body.get("structured_outputs") or {}).get("choice") or [text]
            ranked = sorted(options, key=lambda o: o != text)[: max(1, body.get("top_logprobs") or 1)]
            top = [{"token": o, "logprob": 0.0 if o == text else -2.0 - i, "bytes": list(o.encode())}
                   for i, o in enumerate(ranked)]
            choice["logprobs"] = {"content": [{"token": text, "logprob": 0.0, "bytes": list(text.encode()),
                                               "top_logprobs": top}]}
        parts = [p for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]]
        images = sum(p["type"] == "image_url" for p in parts)
        prompt_tokens = sum(len(prompt_text({"messages": [m]})) // 4 for m in body["messages"]) + 64 * images
        completion_tokens = max(1, len(text) // 4) if text else 0
        return {"id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "model": self.model,
                "choices": [choice], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                               "total_tokens": prompt_tokens + completion_tokens}}

    # -- lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> FakeVLLMServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))  # loopback only, a free port
        self.port = sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        app = web.Application(client_max_size=64 << 20)
        app.router.add_get("/v1/models", self._models)
        if self.version is not None:
            app.router.add_get("/version", self._version)
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)

        async def start() -> None:
            self._stopping = asyncio.Event()
            await self._runner.setup()
            await web.SockSite(self._runner, sock, backlog=1024).start()

        self._loop.run_until_complete(start())
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-vllm", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self._stopping.set()  # release held ("timeout") replies at once
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
