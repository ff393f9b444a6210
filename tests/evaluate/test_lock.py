"""Run-folder locks: two real processes evaluating into one folder, stale locks, re-entrancy."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from robostress.benchmark.load import Benchmark
from robostress.errors import DataError
from robostress.lock import LOCK_NAME, RunLock
from robostress.metrics.runs import load_predictions
from robostress.testing.fake_vllm import FakeVLLMServer

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


class GatedServer(FakeVLLMServer):
    """The fake vLLM server, holding every chat reply until ``open()`` is called."""

    def __enter__(self) -> GatedServer:
        self.waiting = 0
        super().__enter__()
        self._gate = asyncio.run_coroutine_threadsafe(self._make_gate(), self._loop).result()
        return self

    async def _make_gate(self) -> asyncio.Event:
        return asyncio.Event()

    def open(self) -> None:
        self._loop.call_soon_threadsafe(self._gate.set)

    async def _answer_chat(self, request: Any) -> Any:
        self.waiting += 1
        await self._gate.wait()
        return await super()._answer_chat(request)


def eval_cmd(bench: Path, run: Path, srv: FakeVLLMServer) -> list[str]:
    return [sys.executable, "-m", "robostress.cli.main", "eval", f"benchmark_dir={bench}", f"run_dir={run}",
            "model=vllm", f"model.name={srv.model}", f"model.base_url={srv.url}", "limit=40", "batch_size=4",
            "progress=false", "report=false"]


@pytest.mark.slow
def test_two_concurrent_evals_one_is_refused(tiny_bench: Benchmark, tmp_path: Path) -> None:
    run = tmp_path / "run"
    with GatedServer() as srv:
        a = subprocess.Popen(eval_cmd(tiny_bench.root, run, srv), env=ENV, cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while not srv.waiting and a.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)  # A holds the lock and waits for its first answers
            assert srv.waiting, a.communicate()[1]
            b = subprocess.run(eval_cmd(tiny_bench.root, run, srv), env=ENV, cwd=tmp_path,
                               capture_output=True, text=True, timeout=300)
            assert a.poll() is None  # A was still writing while B tried
        finally:
            srv.open()
            _, a_err = a.communicate(timeout=300)
    assert b.returncode == 2 and f"is being written by process {a.pid}" in b.stderr, b.stderr
    assert "Traceback" not in b.stderr
    assert a.returncode == 0, a_err
    preds = load_predictions(run / "predictions.jsonl")
    ids = [p.item_id for p in preds]
    assert len(ids) == 40 == len(set(ids)) and all(p.error is None for p in preds)
    assert ids == [i.item_id for i in tiny_bench.items[:40]]
    assert not (run / LOCK_NAME).exists()  # released on exit


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_lock_of_a_dead_process_is_taken_over(tiny_bench: Benchmark, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    from robostress.evaluate.evaluate import evaluate

    run = tmp_path / "run"
    run.mkdir()
    pid = dead_pid()
    (run / LOCK_NAME).write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "start": "1"}))
    out = evaluate(tiny_bench.root, {"backend": "oracle", "label": "oracle"}, run, limit=10, progress=False,
                   report=False)
    assert len(out["predictions"]) == 10 and f"took over the stale lock of process {pid}" in caplog.text
    assert not (run / LOCK_NAME).exists()


def test_reused_pid_is_stale_and_torn_lock_is_stale(tmp_path: Path) -> None:
    """A live PID whose start time differs is another process (the owner died, the PID was reused)."""
    me = {"pid": os.getpid(), "host": socket.gethostname(), "start": "no-such-start-time"}
    (tmp_path / LOCK_NAME).write_text(json.dumps(me))
    with RunLock(tmp_path):
        assert json.loads((tmp_path / LOCK_NAME).read_text())["start"] != "no-such-start-time"
    (tmp_path / LOCK_NAME).write_text("{\"pid\": 1")  # torn: no owner can be read
    with RunLock(tmp_path):
        pass


def test_lock_is_reentrant_in_one_process_and_refuses_a_live_owner(tmp_path: Path) -> None:
    with RunLock(tmp_path), RunLock(tmp_path):
        assert (tmp_path / LOCK_NAME).exists()
    assert not (tmp_path / LOCK_NAME).exists()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname()}))
        with pytest.raises(DataError, match=f"being written by process {sleeper.pid}"), RunLock(tmp_path):
            pass
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == sleeper.pid  # left in place
    finally:
        sleeper.kill()
        sleeper.wait()
