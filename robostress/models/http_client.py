"""An async client for OpenAI-compatible chat servers (vLLM's ``vllm serve``, other APIs).

Batch-first: ``generate(requests)`` keeps at most ``concurrency`` requests in flight, retries
5xx / 429 / timeouts / connection errors / truncated bodies, and 200 replies with malformed
JSON or empty content (but not an empty reply cut by ``finish_reason: length``, which the same
request would get again), with seeded exponential back-off (honouring Retry-After; the reason of
the last try is kept), and turns every per-request failure into a Response with ``error`` set — a
batch never raises because one item failed. The API key is read from an environment variable
for every batch and never stored in describe(), repr, logs or exceptions.

The client owns a private event loop in a daemon thread, so ``generate`` works from any
thread (with or without a running loop of its own) and keep-alive connections survive
between the runner's chunks; ``close()`` (or garbage collection) closes the session.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import os
import random
import threading
import time
import weakref
from collections.abc import Coroutine, Sequence
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from robostress.errors import BackendError, ConfigError
from robostress.models.base import Model, Request, Response
from robostress.seeding import derive_seed

log = logging.getLogger(__name__)
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
RETRY_REPLIES = frozenset({"malformed JSON", "empty content"})  # 200 replies retried like a 5xx
MAX_BACKOFF_S = 30.0
MAX_RETRY_AFTER_S = 60.0
MAX_BODY = 1 << 20  # replies above 1 MiB are refused as malformed
T = TypeVar("T")
_MIME = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


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
    """OpenAI chat messages of a request: system (if any), then images (data URLs) and prompt."""
    content: list[dict[str, Any]] = [{"type": "image_url", "image_url": {"url": data_url(p)}}
                                     for p in r.images]
    content.append({"type": "text", "text": r.prompt})
    msgs: list[dict[str, Any]] = [{"role": "system", "content": r.system}] if r.system else []
    return msgs + [{"role": "user", "content": content}]


def public_url(url: str) -> str:
    """``url`` without credentials or query string, safe to print and to store in run.json."""
    try:
        p = urlsplit(url)
        host = f"[{p.hostname}]" if p.hostname and ":" in p.hostname else (p.hostname or "")
        return urlunsplit((p.scheme, host + (f":{p.port}" if p.port else ""), p.path, "", "")).rstrip("/")
    except ValueError:
        return "<unparseable URL>"


class _Transport:
    """A private event loop in a daemon thread, with one aiohttp session (a keep-alive pool)
    and one semaphore, so the in-flight bound holds across concurrent ``generate`` calls."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.loop = asyncio.new_event_loop()
        self._session: Any = None
        self._sem: asyncio.Semaphore | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, name="robostress-http", daemon=True)
        self.thread.start()

    async def session(self) -> tuple[Any, asyncio.Semaphore]:
        if self._session is None:
            # keep-alive below uvicorn's 5 s, so an idle connection is dropped here first
            conn = aiohttp.TCPConnector(limit=self.concurrency, keepalive_timeout=4.0)
            self._session = aiohttp.ClientSession(connector=conn)
            self._sem = asyncio.Semaphore(self.concurrency)
        assert self._sem is not None
        return self._session, self._sem

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the private loop and wait for it (Ctrl-C cancels it)."""
        if threading.current_thread() is self.thread:
            raise RuntimeError("a ChatClient cannot be called from its own event loop")
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result()
        except BaseException:
            fut.cancel()
            raise

    def close(self) -> None:
        """Close the session and stop the loop (also run by the client's finalizer)."""
        if self.loop.is_closed() or not self.loop.is_running():
            return
        if threading.current_thread() is self.thread:  # collected inside the loop: do not wait
            if self._session is not None:
                self.loop.create_task(self._session.close())
            self.loop.call_soon(self.loop.stop)
            return
        if self._session is not None:
            asyncio.run_coroutine_threadsafe(self._session.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()


async def _read_bounded(resp: Any) -> bytes | None:
    """The whole body (``content.read(n)`` may return one TCP chunk); None above MAX_BODY."""
    chunks, size = [], 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped at 60 s."""
    if value is None:
        return default
    try:
        secs = float(value)
    except ValueError:
        try:
            secs = (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds()
        except (TypeError, ValueError):
            return default
    return min(max(secs, 0.0), MAX_RETRY_AFTER_S)


class ChatClient(Model):
    """OpenAI-compatible ``/chat/completions`` client with bounded concurrency and retries.

    Args:
        name: the model name the server serves (``GET /models``).
        base_url: the API root including ``/v1``.
        api_key_env: environment variable holding the key (sent as a Bearer token if set).
        concurrency: most requests in flight at once.
        timeout_s: per-attempt timeout.
        max_retries: extra attempts after the first for retryable faults.
        max_tokens: upper bound on generated tokens (a request may ask for fewer).
        temperature, seed: decoding settings sent with every request.
        structured_outputs: send ``structured_outputs: {"choice": [...]}`` for multiple choice.
        logprobs: if > 0, ask for ``top_logprobs=k`` and map first-token options to log-probs.
        check: probe ``GET /models`` at construction (BackendError if unreachable or unserved).
        backoff_s: first back-off delay; doubles per attempt, jittered by a seeded generator.
        extra_body: extra JSON fields merged into every request body.

    Request fields a model refuses: a 400 whose error has ``code`` ``unsupported_parameter``
    or ``unsupported_value`` (OpenAI's answer to ``max_tokens`` or ``temperature`` on gpt-5
    and the o-series) is not a per-item failure: the client moves the budget to
    ``max_completion_tokens`` or leaves that field out, warns once, and asks again; the
    rest of the run sends the adapted body. Backends set ``token_field`` and
    ``send_temperature`` per model family so that this is rarely needed.
    """

    token_field = "max_tokens"  # or max_completion_tokens (OpenAI's current name)
    send_temperature = True  # False for models that only take their default temperature
    choice_field = "structured_outputs"  # vLLM 0.11+; "guided_choice" for a vLLM 0.10.x server

    name = "chat"

    def __init__(self, name: str, base_url: str, *, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 8, timeout_s: float = 120.0, max_retries: int = 4,
                 max_tokens: int = 64, temperature: float = 0.0, seed: int = 0,
                 structured_outputs: bool = False, logprobs: int = 0, check: bool = True,
                 backoff_s: float = 0.5, extra_body: dict[str, Any] | None = None) -> None:
        if not name or name == "???":
            raise ConfigError(f"{self.name}: model.name is required (the model the server serves)")
        if not str(base_url).startswith(("http://", "https://")):
            raise ConfigError(f"{self.name}: base_url must start with http:// or https:// "
                               f"(got {public_url(str(base_url))!r})")
        if int(concurrency) < 1 or float(timeout_s) <= 0 or int(max_retries) < 0 or int(max_tokens) < 1:
            raise ConfigError(f"{self.name}: need concurrency >= 1, timeout_s > 0, max_retries >= 0 "
                               "and max_tokens >= 1")
        self.model_name, self.base_url = name, str(base_url).rstrip("/")
        self.api_key_env, self.concurrency = api_key_env, int(concurrency)
        self.timeout_s, self.max_retries, self.max_tokens = float(timeout_s), int(max_retries), int(max_tokens)
        self.temperature, self.seed, self.backoff_s = float(temperature), int(seed), float(backoff_s)
        self.structured_outputs, self.logprobs = bool(structured_outputs), int(logprobs)
        self.extra_body = dict(extra_body or {})
        try:
            json.dumps(self.extra_body)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{self.name}: extra_body must be JSON-serialisable ({e})") from None
        self._dropped: set[str] = set()  # fields the server refused (unsupported_*): left out from then on
        self._transport: _Transport | None = None
        self._finalizer: weakref.finalize | None = None
        self._lock = threading.Lock()
        self._headers()  # a malformed key fails now, with a message that does not echo it
        if check:
            self._check()

    # -- description and lifecycle --------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Backend, URL (credentials and query removed), model and the settings that change
        answers. Concurrency, timeouts and retries do not, so a resumed run may change them."""
        d = {"backend": self.name, "base_url": public_url(self.base_url), "name": self.model_name,
             "max_tokens": self.max_tokens, "temperature": self.temperature, "seed": self.seed,
             "structured_outputs": self.structured_outputs, "logprobs": self.logprobs,
             "extra_body": self.extra_body}
        if self.token_field != "max_tokens":
            d["token_field"] = self.token_field
        if not self.send_temperature:
            d["temperature"] = None  # not sent: the model's own default
        if self.structured_outputs and self.choice_field != "structured_outputs":
            d["choice_field"] = self.choice_field
        return d

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model_name!r} at {public_url(self.base_url)})"

    def __enter__(self) -> ChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session and stop the private loop (a later call reopens them)."""
        if self._finalizer is not None:
            self._finalizer()  # runs _Transport.close once
        self._transport = self._finalizer = None

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._transport is None:
                self._transport = _Transport(self.concurrency)
                self._finalizer = weakref.finalize(self, self._transport.close)
            transport = self._transport
        return transport.run(coro)

    async def _probe(self, url: str, headers: dict[str, str]) -> tuple[int, bytes | None]:
        """One short GET (at most 10 s) before the run: its status and bounded body."""
        assert self._transport is not None
        s, _ = await self._transport.session()
        timeout = aiohttp.ClientTimeout(total=min(self.timeout_s, 10.0))
        async with s.get(url, headers=headers, timeout=timeout) as resp:
            return resp.status, await _read_bounded(resp)

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env, "").strip()
        if any(c.isspace() or not c.isprintable() for c in key):
            raise BackendError(f"${self.api_key_env} contains whitespace or control characters; "
                               "set it to the bare key")
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _check(self) -> None:
        url, headers = public_url(self.base_url), self._headers()

        try:
            status, raw = self._run(self._probe(f"{self.base_url}/models", headers))
        except Exception as e:  # refused, DNS, timeout: each means the server cannot be reached
            self.close()
            raise BackendError(f"cannot reach the model server at {url} ({type(e).__name__}); "
                               "is `vllm serve` running and is model.base_url right?") from None
        served = _served_models(raw) if status == 200 else []
        if status in (401, 403):
            problem = f"{url}/models answered HTTP {status}: the API key in ${self.api_key_env} is missing or wrong"
        elif status != 200:
            problem = f"{url}/models answered HTTP {status}; is {url} the API root (with /v1)?"
        elif served and self.model_name not in served:
            problem = f"the server at {url} does not serve {self.model_name!r}; it serves: {', '.join(served[:20])}"
        else:
            return
        self.close()
        raise BackendError(problem)

    # -- requests -------------------------------------------------------------------------------
    def body(self, r: Request) -> dict[str, Any]:
        """The JSON body of one chat completion request."""
        b: dict[str, Any] = {"model": self.model_name, "messages": chat_messages(r),
                             self.token_field: min(r.max_tokens or self.max_tokens, self.max_tokens),
                             "seed": self.seed}
        if self.send_temperature:
            b["temperature"] = self.temperature
        b.update(self.extra_body)
        if r.choices and self.structured_outputs:
            if self.choice_field == "guided_choice":
                b["guided_choice"] = list(r.choices)
            else:
                b["structured_outputs"] = {"choice": list(r.choices)}
        if self.logprobs > 0:
            b["logprobs"], b["top_logprobs"] = True, self.logprobs
        for k in self._dropped:
            b.pop(k, None)
        if "logprobs" in self._dropped:
            b.pop("top_logprobs", None)
        return b

    def _adapt(self, raw: bytes | None, body: dict[str, Any]) -> bool:
        """After a 400: if the server refused one field as unsupported, change what is sent (for
        this and every later request) and say whether asking again can help."""
        try:
            err = json.loads(raw or b"")["error"]
            code, param = err.get("code"), err.get("param")
        except (ValueError, KeyError, TypeError, AttributeError):
            return False
        if code not in ("unsupported_parameter", "unsupported_value") or not isinstance(param, str):
            return False
        if param == "max_tokens" and self.token_field == "max_tokens":
            self.token_field = "max_completion_tokens"
            log.warning("%s: the server refuses max_tokens; sending max_completion_tokens from now on",
                        self.model_name)
            return True
        if param in body and param not in ("model", "messages", self.token_field) and param not in self._dropped:
            self._dropped.add(param)
            log.warning("%s: the server refuses %r (%s); it is left out from now on (the model's default "
                        "applies)", self.model_name, param, code)
            return True
        return param in self._dropped or (param == "max_tokens" and self.token_field != "max_tokens")

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Answer every request, in order; per-item failures become Responses with ``error``."""
        if not requests:
            return []
        headers = self._headers()

        async def batch() -> list[Response]:
            assert self._transport is not None
            s, sem = await self._transport.session()

            async def bounded(r: Request) -> Response:
                async with sem:
                    return await self._one(s, r, headers)

            return list(await asyncio.gather(*(bounded(r) for r in requests)))

        out = self._run(batch())
        if failed := [r.error for r in out if r.error]:
            log.warning("%s: %d of %d requests failed (first: %s)", self.model_name, len(failed), len(out), failed[0])
        return out

    async def _one(self, s: Any, r: Request, headers: dict[str, str]) -> Response:
        t0 = time.perf_counter()
        try:
            body = self.body(r)
        except OSError as e:
            return _fail(f"cannot read image {e.filename!r} ({type(e).__name__})", t0, 0)
        jitter = random.Random(derive_seed(self.seed, r.id, "backoff"))
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        last, tries, attempt, adapted = "no attempt", 0, 0, 0
        while attempt <= self.max_retries:
            tries += 1
            wait = min(self.backoff_s * 2**attempt, MAX_BACKOFF_S) * (0.5 + jitter.random())
            try:
                async with s.post(f"{self.base_url}/chat/completions", json=body, headers=headers,
                                  timeout=timeout) as resp:
                    raw = await _read_bounded(resp)
                    if resp.status == 200:
                        out = _parse(raw, r, time.perf_counter() - t0, tries)
                        if out.error not in RETRY_REPLIES:
                            return out
                        last = str(out.error)  # a glitch of one reply: retried like a 5xx
                    else:
                        last = f"HTTP {resp.status}"
                    if resp.status == 400 and adapted < 4 and self._adapt(raw, body):
                        adapted += 1  # a refused field, not a fault: ask again at once, unchanged budget
                        body = self.body(r)
                        continue
                    if resp.status != 200 and resp.status not in RETRY_STATUS:
                        return _fail(f"{last} (not retried){_server_message(raw)}", t0, tries)
                    if resp.status != 200:
                        wait = _retry_after(resp.headers.get("Retry-After"), wait)
            except asyncio.TimeoutError:
                last = f"timeout ({self.timeout_s:g}s)"
            except aiohttp.ClientPayloadError:
                last = "truncated body"
            except (aiohttp.ClientError, OSError) as e:
                last = f"connection error ({type(e).__name__})"
            if attempt < self.max_retries:
                log.debug("request %s: %s; retry in %.2fs", r.id, last, wait)
                await asyncio.sleep(wait)
            attempt += 1
        return _fail(f"{last} after {tries} tries", t0, tries)


def _fail(reason: str, t0: float, tries: int) -> Response:
    return Response(text="", latency_s=time.perf_counter() - t0, error=reason, extra={"tries": tries})


def _server_message(raw: bytes | None) -> str:
    """A short, printable excerpt of an error body (servers explain a 400 there)."""
    if not raw:
        return ""
    try:
        msg = json.loads(raw)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        msg = raw.decode("utf-8", "replace")
    msg = "".join(c for c in str(msg) if c.isprintable())[:200]
    return f": {msg}" if msg else ""


def _served_models(raw: bytes | None) -> list[str]:
    try:
        data = json.loads(raw or b"")
        return [str(m.get("id")) for m in data.get("data", []) if isinstance(m, dict)]
    except (ValueError, AttributeError):
        return []


def _parse(raw: bytes | None, r: Request, latency: float, tries: int) -> Response:
    """A 200 reply body to a Response ('malformed JSON' / 'empty content' when unusable)."""
    if raw is None:
        return Response(text="", latency_s=latency, error="malformed JSON (reply over 1 MiB)",
                        extra={"tries": tries})
    try:
        data = json.loads(raw)
        choice = data["choices"][0]
        text = choice["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return Response(text="", latency_s=latency, error="malformed JSON", extra={"tries": tries})
    if not isinstance(text, str) or not text.strip():
        if isinstance(choice, dict) and choice.get("finish_reason") == "length":
            # the token budget ran out before any answer (a reasoning model thinking): the same
            # request fails the same way again, so this is final, not retried
            return Response(text="", latency_s=latency, extra={"tries": tries},
                            error="empty content with finish_reason length: the token budget (reasoning tokens "
                                  "included) ran out before an answer; raise model.max_tokens (not retried)")
        return Response(text="", latency_s=latency, error="empty content", extra={"tries": tries})
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    return Response(text=text, latency_s=latency, prompt_tokens=_int(usage.get("prompt_tokens")),
                    completion_tokens=_int(usage.get("completion_tokens")),
                    logprobs=option_logprobs(choice, r.choices), extra={"tries": tries})


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def option_logprobs(choice: Any, options: Sequence[str] | None) -> dict[str, float] | None:
    """Options' log-probabilities from the first generated token and its top alternatives.

    An option gets a value only when it is exactly one token (after stripping spaces), which
    holds for option letters; the rest are absent rather than guessed.
    """
    if not options:
        return None
    try:
        first = choice["logprobs"]["content"][0]
        cands = [first, *(first.get("top_logprobs") or [])]
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    out: dict[str, float] = {}
    for c in cands:
        if not isinstance(c, dict) or not isinstance(c.get("logprob"), (int, float)):
            continue
        tok = str(c.get("token", "")).strip()
        if tok in options and tok not in out:
            out[tok] = float(c["logprob"])
    return out or None
