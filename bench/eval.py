"""HTTP evaluation throughput, measured side by side in one run against a loopback fake vLLM.

(a) zero-latency server: the `vllm` backend vs a minimal raw aiohttp client sending the same
    request bodies with the same concurrency (goal >= 0.9). The raw client gets its bodies
    pre-built; the backend builds them (messages, data URLs) inside the timed region.
(b) 50 ms server latency: the backend vs a sequential batch-1 loop through the same backend
    (goal >= 30x), at the backend's default concurrency and at 32 (which bounds it at 32x).

The server runs in its own process so that client and server do not share one GIL. Trials
alternate between the two sides; each case reports the min and the median of the per-pair
ratios (the min is the number to quote), which cancels most of the drift of a shared machine.

    python bench/eval.py [--n 400] [--size 64] [--pairs 5] [--pairs-b 3] [--n-b 1000] [--n-seq 60]
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from robostress.models.base import Request  # noqa: E402
from robostress.models.http_client import ChatClient  # noqa: E402
from robostress.models.vllm_server import VLLMServer  # noqa: E402
from robostress.testing.fake_vllm import FakeVLLMServer  # noqa: E402


def _serve(latency_s: float, q: Any, stop: Any) -> None:
    with FakeVLLMServer(latency_s=latency_s) as srv:
        q.put((srv.url, srv.model))
        stop.wait()


class ServerProcess:
    """The fake server in a spawned process; yields (base_url, model name)."""

    def __init__(self, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s

    def __enter__(self) -> tuple[str, str]:
        ctx = mp.get_context("spawn")
        self.q, self.stop = ctx.Queue(), ctx.Event()
        self.p = ctx.Process(target=_serve, args=(self.latency_s, self.q, self.stop), daemon=True)
        self.p.start()
        return self.q.get(timeout=60)  # type: ignore[no-any-return]

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.p.join(10)


def make_image(size: int) -> Path:
    """A render-like PNG: smooth gradients plus a little noise (not incompressible noise)."""
    path = Path(tempfile.mkdtemp()) / "frame.png"
    yy, xx = np.mgrid[0:size, 0:size] * (256 / size)
    noise = np.random.default_rng(0).integers(0, 12, (size, size, 3))
    Image.fromarray((np.stack([xx, yy, (xx + yy) / 2], -1) * 0.9 + noise).astype(np.uint8)).save(path)
    return path


def make_requests(n: int, image: str) -> list[Request]:
    return [Request(id=str(i), prompt=f"question {i}\nA. a\nB. b\nC. c\nD. d\nAnswer with the letter.",
                    images=(image,), choices=("A", "B", "C", "D")) for i in range(n)]


def raw_client(url: str, bodies: list[dict[str, Any]], concurrency: int) -> float:
    """Items/s of the least a client can do: POST each body, read the JSON, nothing else."""
    import aiohttp

    async def run() -> None:
        sem = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
            async def one(b: dict[str, Any]) -> None:
                async with sem, s.post(f"{url}/chat/completions", json=b) as r:
                    await r.json()

            await asyncio.gather(*(one(b) for b in bodies))

    t = time.perf_counter()
    asyncio.run(run())
    return len(bodies) / (time.perf_counter() - t)


def backend(model: ChatClient, reqs: list[Request]) -> float:
    """Items/s of the backend's generate() on the whole batch (every reply must be good)."""
    t = time.perf_counter()
    out = model.generate(reqs)
    rate = len(reqs) / (time.perf_counter() - t)
    bad = [r.error for r in out if r.error]
    if bad:
        raise SystemExit(f"{len(bad)} requests failed, e.g. {bad[0]}")
    return rate


def sequential(model: ChatClient, reqs: list[Request]) -> float:
    """Items/s of a batch-1 loop: one request at a time through the same backend."""
    t = time.perf_counter()
    for r in reqs:
        if model.generate([r])[0].error:
            raise SystemExit("a sequential request failed")
    return len(reqs) / (time.perf_counter() - t)


def ratio_line(label: str, pairs: list[tuple[float, float]], goal: str, unit: str = "") -> str:
    """One table row: medians of both sides, min and median of the per-pair ratios."""
    r = [h / b for h, b in pairs]
    h_med, b_med = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
    return (f"{label:<36}{h_med:>10.1f}{b_med:>11.1f}{min(r):>8.2f}{unit}{statistics.median(r):>9.2f}{unit}"
            f"{goal:>9}   pairs: " + ", ".join(f"{x:.2f}" for x in r))


def main() -> None:
    default_c = inspect.signature(VLLMServer.__init__).parameters["concurrency"].default
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400, help="requests per trial")
    ap.add_argument("--size", type=int, default=64, help="PNG side in pixels (64: a small PNG)")
    ap.add_argument("--pairs", type=int, default=5, help="interleaved trial pairs for (a)")
    ap.add_argument("--pairs-b", type=int, default=3, help="interleaved trial pairs for (b), per concurrency")
    ap.add_argument("--n-b", type=int, default=1000, help="requests of each concurrent trial in (b)")
    ap.add_argument("--n-seq", type=int, default=60, help="requests of each sequential trial in (b)")
    ap.add_argument("--concurrency", type=int, default=default_c, help="the backend's default")
    a = ap.parse_args()
    img = make_image(a.size)
    reqs = make_requests(max(a.n, a.n_b), str(img))
    reqs_a, reqs_b = reqs[:a.n], reqs[:a.n_b]
    c = a.concurrency

    with ServerProcess() as (url, name), VLLMServer(name, url, concurrency=c) as m:
        bodies = [m.body(r) for r in reqs_a]
        backend(m, reqs[:100]), raw_client(url, bodies[:100], c)  # warm up both
        pairs_a = []
        for k in range(a.pairs):  # alternate which goes first
            if k % 2 == 0:
                h = backend(m, reqs_a)
                raw = raw_client(url, bodies, c)
            else:
                raw = raw_client(url, bodies, c)
                h = backend(m, reqs_a)
            pairs_a.append((h, raw))

    pairs_b: dict[int, list[tuple[float, float]]] = {}
    with ServerProcess(latency_s=0.05) as (url, name):
        for cb in sorted({c, 32}, reverse=True):
            with VLLMServer(name, url, concurrency=cb) as m:
                backend(m, reqs[:cb])  # open the keep-alive pool
                pairs_b[cb] = []
                for k in range(a.pairs_b):
                    if k % 2 == 0:
                        conc, seq = backend(m, reqs_b), sequential(m, reqs[:a.n_seq])
                    else:
                        seq, conc = sequential(m, reqs[:a.n_seq]), backend(m, reqs_b)
                    pairs_b[cb].append((conc, seq))

    print(f"(a) {a.n}, (b) {a.n_b} concurrent and {a.n_seq} sequential requests, each a {a.size}x{a.size} PNG ({img.stat().st_size / 1024:.1f} KB), "
          f"fake vLLM server in its own process; items/s are medians over the pairs")
    print(f"{'case':<36}{'backend':>10}{'baseline':>11}{'min':>8}{'median':>10}{'goal':>9}")
    print(ratio_line(f"(a) 0 ms, c={c}: vs raw aiohttp", pairs_a, ">= 0.9"))
    for cb, pairs in pairs_b.items():
        print(ratio_line(f"(b) 50 ms, c={cb}: vs batch-1 loop", pairs, ">= 30x" if cb == c else f"<= {cb}x",
                         unit="x"))


if __name__ == "__main__":
    main()
