"""The vLLM server backend against a real loopback HTTP server, faults included."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robostress.errors import BackendError
from robostress.models.base import Request, create_model
from robostress.models.fake_server import FakeVLLMServer
from robostress.models.vllm_offline import offline_messages


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    p = tmp_path_factory.mktemp("img") / "x.png"
    Image.fromarray(np.full((8, 8, 3), 120, np.uint8)).save(p)
    return str(p)


def reqs(image: str, n: int) -> list[Request]:
    return [Request(id=str(i), prompt=f"q{i}\nA. x\nB. y", images=(image,), choices=("A", "B")) for i in range(n)]


def model(srv: FakeVLLMServer, **kw: object):  # type: ignore[no-untyped-def]
    base = dict(name=srv.model, base_url=srv.url, timeout_s=2.0, max_retries=3, backoff_s=0.01)
    base.update(kw)
    return create_model("vllm", **base)


def test_happy_path_sends_images_and_structured_outputs(image: str) -> None:
    with FakeVLLMServer(answer=lambda b: b["structured_outputs"]["choice"][1], latency_s=0.01) as srv:
        out = model(srv, concurrency=8, logprobs=2).generate(reqs(image, 50))
    assert [r.text for r in out] == ["B"] * 50 and all(r.error is None for r in out)
    assert all(r.prompt_tokens and r.logprobs and r.logprobs["B"] == 0.0 for r in out)
    body = srv.requests[0]
    assert body["structured_outputs"] == {"choice": ["A", "B"]} and "guided_choice" not in body
    assert body["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert 1 < srv.max_in_flight <= 8


@pytest.mark.parametrize("fault", ["500", "malformed", "reset", "empty"])
def test_transient_faults_are_retried_or_reported(image: str, fault: str) -> None:
    with FakeVLLMServer(faults=[fault]) as srv:
        out = model(srv, concurrency=1).generate(reqs(image, 3))
    if fault in ("500", "reset"):
        assert all(r.text == "A" and r.error is None for r in out)  # retried
        assert len(srv.requests) >= 4 or fault == "reset"
    else:
        bad = [r for r in out if r.error]
        assert len(bad) == 1 and (fault.replace("malformed", "malformed JSON") in bad[0].error)
        assert all(r.text == "A" for r in out if not r.error)


def test_429_honours_retry_after(image: str) -> None:
    with FakeVLLMServer(faults=["429"], retry_after=0.6) as srv:
        t = time.perf_counter()
        out = model(srv, concurrency=1).generate(reqs(image, 1))
        took = time.perf_counter() - t
    assert out[0].text == "A" and took >= 0.55


def test_timeouts_end_as_failed_items_not_crashes(image: str) -> None:
    with FakeVLLMServer(faults=["timeout"] * 10, hang_s=3.0) as srv:
        out = model(srv, concurrency=4, timeout_s=0.3, max_retries=1).generate(reqs(image, 3))
    assert all(r.error and "timeout" in r.error for r in out)


def test_every_item_answered_or_failed_under_mixed_faults(image: str) -> None:
    faults = ["500", "429", "malformed", "empty", "reset", "500", "500", "500", "500", "500"] * 3
    with FakeVLLMServer(faults=faults, retry_after=0.05) as srv:
        out = model(srv, concurrency=6, max_retries=2).generate(reqs(image, 40))
    assert len(out) == 40
    assert all((r.text and not r.error) or (r.error and not r.text) for r in out)
    assert sum(r.error is None for r in out) >= 30


def test_api_key_from_env_never_leaks(image: str, monkeypatch: pytest.MonkeyPatch,
                                      caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("VLLM_API_KEY", "sk-topsecret")
    with caplog.at_level(logging.DEBUG), FakeVLLMServer(api_key="sk-topsecret") as srv:
        m = model(srv)
        assert m.generate(reqs(image, 2))[0].text == "A"
        text = repr(m) + str(m.describe()) + caplog.text
    assert "sk-topsecret" not in text
    monkeypatch.setenv("VLLM_API_KEY", "wrong")
    with FakeVLLMServer(api_key="sk-topsecret") as srv:
        with pytest.raises(BackendError) as e:
            model(srv)
    assert "401" in str(e.value) and "wrong" not in str(e.value)


def test_unreachable_server_and_unknown_model() -> None:
    with pytest.raises(BackendError, match="cannot reach the model server at http://127.0.0.1:9/v1"):
        create_model("vllm", name="m", base_url="http://127.0.0.1:9/v1")
    with FakeVLLMServer(model="served") as srv:
        with pytest.raises(BackendError, match="does not serve 'other'; it serves: served"):
            create_model("vllm", name="other", base_url=srv.url)


def test_openai_backend_does_not_send_structured_outputs(image: str) -> None:
    with FakeVLLMServer() as srv:
        m = create_model("openai", name=srv.model, base_url=srv.url)
        assert m.generate(reqs(image, 1))[0].text == "A"
    assert "structured_outputs" not in srv.requests[0]


def test_vllm_offline_without_vllm_gives_install_hint(image: str) -> None:
    pytest.importorskip("numpy")
    try:
        import vllm  # noqa: F401
        pytest.skip("vllm is installed here")
    except ImportError:
        pass
    with pytest.raises(BackendError, match=r"pip install 'robostress\[vllm\]'"):
        create_model("vllm_offline", name="x")
    msgs = offline_messages(reqs(image, 2))
    assert msgs[0][0]["content"][0]["type"] == "image_url" and msgs[1][0]["content"][1]["text"].startswith("q1")


def test_eval_cli_against_the_fake_server(tiny_bench, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from robostress.evaluate.evaluate import evaluate

    with FakeVLLMServer(faults=["500"] * 3 + ["malformed"]) as srv:
        out = evaluate(tiny_bench.root, {"backend": "vllm", "label": "fake", "name": srv.model, "base_url": srv.url,
                                         "backoff_s": 0.01, "max_retries": 1},
                       tmp_path / "run", progress=False, report=True)
    preds = out["predictions"]
    assert len(preds) == len(tiny_bench.items)
    assert sum(p.error is not None for p in preds) >= 1
    assert (tmp_path / "run" / "report.html").exists()
