"""The ``vllm`` backend against a real loopback HTTP server (the fake vLLM), faults included."""

from __future__ import annotations

import asyncio
import base64
import gc
import logging
import re
import socket
import threading
import warnings
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from robostress.errors import BackendError, ConfigError
from robostress.models.base import Request, create_model
from robostress.models.http_client import ChatClient, _retry_after, public_url
from robostress.models.vllm_server import VLLMServer
from robostress.testing.fake_vllm import FakeVLLMServer, prompt_text, validate

LETTERS = "ABCD"


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    p = tmp_path_factory.mktemp("img") / "x.png"
    Image.fromarray(np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3)).save(p)
    return str(p)


def reqs(image: str, n: int, **kw: Any) -> list[Request]:
    return [Request(id=f"r{i}", prompt=f"q{i}\nA. x\nB. y\nC. z\nD. w", images=(image,), choices=tuple(LETTERS), **kw)
            for i in range(n)]


def truth(body: dict[str, Any]) -> str:
    """The answer policy of these tests: a lookup from the question number."""
    return LETTERS[int(re.match(r"q(\d+)", prompt_text(body)).group(1)) % 3]  # type: ignore[union-attr]


def client(srv: FakeVLLMServer, **kw: Any) -> ChatClient:
    base: dict[str, Any] = dict(name=srv.model, base_url=srv.url, timeout_s=2.0, max_retries=3, backoff_s=0.01)
    return create_model("vllm", **{**base, **kw})  # type: ignore[return-value]


def test_happy_path_batch_with_images(image: str) -> None:
    with FakeVLLMServer(answer=truth, latency_s=0.01) as srv, client(srv, concurrency=8) as m:
        out = m.generate(reqs(image, 50))
    assert [r.text for r in out] == [LETTERS[i % 3] for i in range(50)]  # order kept, each its own answer
    assert all(r.error is None and r.prompt_tokens and r.completion_tokens for r in out)
    assert len(srv.requests) == 50 and 1 < srv.max_in_flight <= 8
    body = srv.requests[0]
    assert body["structured_outputs"] == {"choice": list(LETTERS)} and not any(k.startswith("guided") for k in body)
    assert body["temperature"] == 0.0 and body["seed"] == 0 and body["max_tokens"] == 64
    url = body["messages"][0]["content"][0]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == Path(image).read_bytes()  # PNG bytes, not re-encoded


def test_logprobs_map_first_token_to_options(image: str) -> None:
    with FakeVLLMServer(answer=truth) as srv, client(srv, logprobs=3) as m:
        out = m.generate(reqs(image, 2))
    assert srv.requests[0]["logprobs"] is True and srv.requests[0]["top_logprobs"] == 3
    assert out[1].logprobs is not None and out[1].logprobs["B"] == 0.0 and len(out[1].logprobs) == 3
    assert all(v < 0 for k, v in out[1].logprobs.items() if k != "B")


def test_max_tokens_is_a_cap(image: str) -> None:
    with FakeVLLMServer() as srv, client(srv, max_tokens=16) as m:
        m.generate([*reqs(image, 1, max_tokens=500), *reqs(image, 1, max_tokens=4)])
    assert sorted(b["max_tokens"] for b in srv.requests) == [4, 16]


@pytest.mark.parametrize("fault", ["500", "429", "timeout", "reset", "malformed", "empty", "truncated"])
def test_transient_fault_is_retried(image: str, fault: str) -> None:
    with FakeVLLMServer(answer=truth, faults=[fault], retry_after=0.05, hang_s=5) as srv, \
            client(srv, concurrency=1, timeout_s=0.3) as m:
        out = m.generate(reqs(image, 3))
    assert [r.text for r in out] == ["A", "B", "C"] and all(r.error is None for r in out)
    assert srv.fault_log == [fault] and out[0].extra["tries"] == 2 and len(srv.requests) == 4


@pytest.mark.parametrize(("fault", "reason"), [("500", "HTTP 500 after 3 tries"), ("429", "HTTP 429 after 3 tries"),
                                               ("timeout", "timeout (0.2s) after 3 tries"),
                                               ("reset", "connection error (ClientOSError) after 3 tries"),
                                               ("malformed", "malformed JSON after 3 tries"),
                                               ("empty", "empty content after 3 tries"),
                                               ("truncated", "truncated body after 3 tries")])
def test_persistent_fault_fails_the_item_with_its_reason(image: str, fault: str, reason: str) -> None:
    with FakeVLLMServer(faults=[fault] * 3, retry_after=0.01, hang_s=5) as srv, \
            client(srv, concurrency=1, timeout_s=0.2, max_retries=2) as m:
        out = m.generate(reqs(image, 2))
    assert out[0].text == "" and out[0].error == reason and out[0].extra["tries"] == 3
    assert out[1].text == "A" and out[1].error is None and len(srv.requests) == 4


def test_reason_of_the_last_try_is_kept(image: str) -> None:
    """Different faults on each try: the item's error names the last one, and the back-off is the 5xx one."""
    with FakeVLLMServer(faults=["500", "malformed", "empty"], retry_after=0.01) as srv, \
            client(srv, concurrency=1, max_retries=2, backoff_s=0.05) as m:
        out = m.generate(reqs(image, 1))
    assert out[0].error == "empty content after 3 tries" and srv.fault_log == ["500", "malformed", "empty"]
    gaps = [b - a for a, b in zip(srv.arrivals, srv.arrivals[1:], strict=False)]
    assert gaps[0] >= 0.025 and gaps[1] >= 0.05  # seeded exponential back-off: 0.05 * 2^k * [0.5, 1.5)


def test_max_retries_zero_fails_a_bad_reply_at_once(image: str) -> None:
    with FakeVLLMServer(faults=["empty"]) as srv, client(srv, concurrency=1, max_retries=0) as m:
        out = m.generate(reqs(image, 2))
    assert (out[0].text, out[0].error) == ("", "empty content after 1 tries") and out[1].text == "A"
    assert len(srv.requests) == 2


def test_429_retry_after_is_honoured(image: str) -> None:
    with FakeVLLMServer(faults=["429"], retry_after=0.5) as srv, client(srv, concurrency=1) as m:
        out = m.generate(reqs(image, 1))
    waited = srv.arrivals[1] - srv.arrivals[0]  # measured by the server, not by the client
    assert out[0].text == "A" and 0.5 <= waited < 1.5  # not the 10 ms back-off, not much more


def test_retry_after_header_forms() -> None:
    assert _retry_after("2", 0.1) == 2.0 and _retry_after(None, 0.1) == 0.1 and _retry_after("soon", 0.1) == 0.1
    assert _retry_after("3600", 0.1) == 60.0 and _retry_after("-5", 0.1) == 0.0
    date = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 < _retry_after(date, 0.1) <= 30


def test_mixed_faults_every_item_answered_or_failed_with_reason(image: str) -> None:
    """A fault schedule by question number, so outcomes do not depend on arrival order."""
    seen: dict[str, int] = {}

    def faults(body: dict[str, Any], _: int) -> str | None:
        q = int(prompt_text(body).split("\n")[0][1:])
        seen[str(q)] = seen.get(str(q), 0) + 1
        kind = ["500", "429", "reset", "malformed", "empty", "timeout", "truncated", None][q % 8]
        return kind if q % 16 < 8 or seen[str(q)] == 1 else None  # q%16 >= 8: transient only

    with FakeVLLMServer(answer=truth, faults=faults, retry_after=0.01, hang_s=5) as srv, \
            client(srv, concurrency=8, timeout_s=0.3, max_retries=2) as m:
        out = m.generate(reqs(image, 64))
    for q, r in enumerate(out):
        permanent = q % 16 < 8 and q % 8 < 7  # every fault kind is retried; only persistent ones fail
        assert (r.error is not None) == permanent, (q, r)
        assert r.text == ("" if permanent else LETTERS[q % 3])


@pytest.mark.slow
def test_concurrency_bound_and_hundreds_of_connections(image: str) -> None:
    with FakeVLLMServer(latency_s=0.05) as srv, client(srv, concurrency=5) as m:
        assert all(r.text for r in m.generate(reqs(image, 30)))
    assert srv.max_in_flight == 5
    # a latency long enough that even a loaded machine opens them all before the first returns
    with FakeVLLMServer(latency_s=1.5) as srv, client(srv, concurrency=400) as m:
        assert all(r.text for r in m.generate(reqs(image, 300)))
    assert srv.max_in_flight >= 250


def test_bound_holds_across_threads_and_inside_a_running_loop(image: str) -> None:
    with FakeVLLMServer(latency_s=0.05) as srv, client(srv, concurrency=4) as m:
        outs: list[list[Any]] = []
        threads = [threading.Thread(target=lambda: outs.append(m.generate(reqs(image, 12)))) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)

        async def from_async_code() -> list[Any]:
            return m.generate(reqs(image, 3))

        inside = asyncio.run(from_async_code())
    assert len(outs) == 3 and all(r.text == "A" for o in [*outs, inside] for r in o)
    assert srv.max_in_flight == 4


def test_close_releases_the_session_and_thread(image: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with FakeVLLMServer() as srv:
            m = client(srv)
            m.generate(reqs(image, 2))
            first = m._transport.thread  # type: ignore[union-attr]
            m.close()
            assert not first.is_alive()
            assert m.generate(reqs(image, 1))[0].text == "A"  # reopens after close
            second = m._transport.thread  # type: ignore[union-attr]
            del m
            gc.collect()  # the finalizer closes what close() was not called for
            assert not second.is_alive()
    assert not [w for w in caught if "nclosed" in str(w.message)]


def test_api_key_from_env_never_leaks(image: str, monkeypatch: pytest.MonkeyPatch,
                                      caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-topsecret-123"
    monkeypatch.setenv("VLLM_API_KEY", secret)
    with caplog.at_level(logging.DEBUG), FakeVLLMServer(api_key=secret, faults=["500"] * 9) as srv, \
            client(srv, max_retries=1) as m:
        out = m.generate(reqs(image, 6))
        seen = repr(m) + str(m.describe()) + caplog.text + "".join(str(r.error) for r in out)
    assert [r.text for r in out].count("A") == 3 and "HTTP 500" in seen and secret not in seen
    monkeypatch.setenv("VLLM_API_KEY", "wrong-key")
    with FakeVLLMServer(api_key=secret) as srv, pytest.raises(BackendError) as e:
        client(srv)
    assert "HTTP 401" in str(e.value) and "$VLLM_API_KEY" in str(e.value) and "wrong-key" not in str(e.value)
    monkeypatch.setenv("VLLM_API_KEY", "sk-with\nnewline")
    with pytest.raises(BackendError, match=r"\$VLLM_API_KEY contains whitespace") as e:
        create_model("vllm", name="m", check=False)
    assert "newline" not in str(e.value)


def test_credentials_in_base_url_are_not_shown() -> None:
    m = create_model("vllm", name="m", base_url="http://user:pw@10.0.0.1:8000/v1?key=abc", check=False)
    assert "pw" not in repr(m) + str(m.describe()) and m.describe()["base_url"] == "http://10.0.0.1:8000/v1"
    assert public_url("https://[::1]:9/v1/") == "https://[::1]:9/v1"


def test_unreachable_server_and_unknown_model() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed: nothing listens there
    with pytest.raises(BackendError, match=f"cannot reach the model server at http://127.0.0.1:{port}/v1"):
        create_model("vllm", name="m", base_url=f"http://127.0.0.1:{port}/v1")
    with FakeVLLMServer(model="served") as srv:
        with pytest.raises(BackendError, match="does not serve 'other'; it serves: served"):
            create_model("vllm", name="other", base_url=srv.url)
    with pytest.raises(ConfigError, match="model.name is required"):
        create_model("vllm", name="???", check=False)
    m = create_model("vllm", name="m", base_url=f"http://127.0.0.1:{port}/v1", check=False, max_retries=0)
    assert m.generate([Request(id="x", prompt="hi")])[0].error == "connection error (ClientConnectorError) after 1 tries"


def test_removed_guided_choice_is_rejected_and_missing_image_is_per_item(image: str) -> None:
    with FakeVLLMServer() as srv, client(srv, extra_body={"guided_choice": ["A"]}) as m:
        out = m.generate(reqs(image, 1))
    assert out[0].error == "HTTP 400 (not retried): guided_choice was removed; use structured_outputs"
    with FakeVLLMServer() as srv, client(srv) as m:
        out = m.generate([*reqs("/nonexistent.png", 1), *reqs(image, 1)])
    assert "cannot read image '/nonexistent.png'" in str(out[0].error) and out[1].text == "A"


@pytest.mark.parametrize(("patch", "why"), [
    ({"messages": []}, "non-empty list"),
    ({"structured_outputs": {"choice": []}}, "structured_outputs.choice"),
    ({"top_logprobs": 3}, "needs logprobs=true"),
    ({"model": "x"}, "does not exist"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://a/b.png"}}]}]},
     "data:image"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,@@"}}]}]},
     "not valid base64"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]},
     "not a PNG"),
])
def test_fake_server_validates_like_vllm(patch: dict[str, Any], why: str) -> None:
    good = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "structured_outputs": {"choice": ["A"]}}
    assert validate(good, "m") is None
    assert why in str(validate({**good, **patch}, "m"))


@pytest.mark.slow
def test_eval_against_the_fake_server(tiny_bench, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The runner over the vllm backend: one question's prompt always fails, the rest answer."""
    from robostress.evaluate.evaluate import evaluate

    first: list[str] = []

    def faults(body: dict[str, Any], _: int) -> str | None:
        first.append(prompt_text(body))
        return "500" if prompt_text(body) == first[0] else None

    with FakeVLLMServer(faults=faults) as srv:
        out = evaluate(tiny_bench.root, {"backend": "vllm", "label": "fake", "name": srv.model, "base_url": srv.url,
                                         "backoff_s": 0.01, "max_retries": 1},
                       tmp_path / "run", progress=False, report=False)
    preds = out["predictions"]
    failed = [p for p in preds if p.error]
    assert len(preds) == len(tiny_bench.items) and failed
    assert all(p.error == "HTTP 500 after 2 tries" and p.score == 0 for p in failed)
    assert len(srv.requests) == len(preds) + len(failed)
    assert (tmp_path / "run" / "predictions.jsonl").exists()


def test_a_vllm_0_10_server_gets_guided_choice(tmp_path: Path) -> None:
    """vLLM 0.10.x ignores the (then unknown) structured_outputs field, so multiple choice would
    come back unconstrained with no error; the client reads /version and sends guided_choice."""
    img = tmp_path / "x.png"
    Image.fromarray(np.full((8, 8, 3), 9, np.uint8)).save(img)
    free = lambda b: (b.get("structured_outputs") or {}).get("choice", ["I see a red mug"])[-1]  # noqa: E731
    r = Request(id="a", prompt="A or B?", images=(str(img),), choices=("A", "B"))
    with FakeVLLMServer(version="0.10.2", answer=free) as srv, VLLMServer(srv.model, srv.url) as m:
        out = m.generate([r])
    assert out[0].text == "B" and srv.requests[0]["guided_choice"] == ["A", "B"]
    assert "structured_outputs" not in srv.requests[0] and m.describe()["choice_field"] == "guided_choice"
    with FakeVLLMServer(version="0.33.0", answer=free) as srv, VLLMServer(srv.model, srv.url) as m:
        assert m.generate([r])[0].text == "B" and "choice_field" not in m.describe()
    assert srv.requests[0]["structured_outputs"] == {"choice": ["A", "B"]} and "guided_choice" not in srv.requests[0]
    with FakeVLLMServer(version="0.9.2") as srv:
        with pytest.raises(BackendError, match=r"runs vLLM 0\.9\.2, which is too old"):
            VLLMServer(srv.model, srv.url)
