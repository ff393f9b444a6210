"""HTTP evaluation throughput, measured side by side in one run against a loopback fake vLLM.

(a) zero-latency server: the harness's `vllm` backend vs a minimal raw aiohttp client sending
    the same requests with the same concurrency (goal >= 0.9);
(b) 50 ms server latency: the harness (concurrency 32) vs a sequential batch-1 loop (goal >= 30x).

    python bench/eval.py [--n 400]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import argparse
import asyncio
import multiprocessing as mp
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from robostress.models.base import Request, create_model
from robostress.models.fake_server import FakeVLLMServer
from robostress.models.http_client import ChatClient


class ServerProcess:
    """The fake server in its own process, so the client under test has the GIL to itself."""

    def __init__(self, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s

    @staticmethod
    def _serve(latency_s: float, q: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
        with FakeVLLMServer(latency_s=latency_s) as srv:
            q.put((srv.url, srv.model))
            stop.wait()

    def __enter__(self) -> tuple[str, str]:
        ctx = mp.get_context("spawn")
        self.q, self.stop = ctx.Queue(), ctx.Event()
        self.p = ctx.Process(target=self._serve, args=(self.latency_s, self.q, self.stop), daemon=True)
        self.p.start()
        return self.q.get(timeout=60)  # type: ignore[no-any-return]

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.p.join(10)


def requests(n: int, image: str) -> list[Request]:
    return [Request(id=str(i), prompt=f"question {i}\nA. a\nB. b\nC. c\nD. d", images=(image,),
                    choices=("A", "B", "C", "D")) for i in range(n)]


def raw_client(url: str, bodies: list[dict], concurrency: int) -> float:  # type: ignore[type-arg]
    import aiohttp

    async def run() -> None:
        sem = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
            async def one(b: dict) -> None:  # type: ignore[type-arg]
                async with sem, s.post(f"{url}/chat/completions", json=b) as r:
                    await r.json()
            await asyncio.gather(*(one(b) for b in bodies))

    t = time.perf_counter()
    asyncio.run(run())
    return len(bodies) / (time.perf_counter() - t)


def harness(model: ChatClient, reqs: list[Request]) -> float:
    t = time.perf_counter()
    out = model.generate(reqs)
    assert all(r.error is None for r in out)
    return len(reqs) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=400)
    a = ap.parse_args()
    img = Path(tempfile.mkdtemp()) / "x.png"
    yy, xx = np.mgrid[0:256, 0:256]  # a smooth image: PNG size like a rendered frame (not noise)
    noise = np.random.default_rng(0).integers(0, 24, (256, 256, 3))  # render-like noise: ~60-90 KB
    Image.fromarray((np.stack([xx, yy, (xx + yy) // 2], -1) * 0.9 + noise).astype(np.uint8)).save(img)
    reqs = requests(a.n, str(img))
    with ServerProcess() as (url, name):
        m = create_model("vllm", name=name, base_url=url, concurrency=32)
        bodies = [m.body(r) for r in reqs]  # type: ignore[attr-defined]
        harness(m, reqs[:50]), raw_client(url, bodies[:50], 32)  # warm up
        h = max(harness(m, reqs) for _ in range(3))  # type: ignore[arg-type]
        raw = max(raw_client(url, bodies, 32) for _ in range(3))
    with ServerProcess(latency_s=0.05) as (url, name):
        m = create_model("vllm", name=name, base_url=url, concurrency=32)
        hl = harness(m, reqs)  # type: ignore[arg-type]
        n_seq = min(60, a.n)
        t = time.perf_counter()
        for r in reqs[:n_seq]:
            m.generate([r])
        seq = n_seq / (time.perf_counter() - t)
    print(f"{a.n} requests with a 256x256 PNG each ({img.stat().st_size // 1024} KB), concurrency 32, "
          "server in its own process")
    print(f"(a) zero latency: harness {h:8.1f} items/s   raw aiohttp {raw:8.1f} items/s   ratio {h / raw:.2f} (goal >= 0.9)")
    print(f"(b) 50 ms latency: harness {hl:8.1f} items/s   sequential batch-1 {seq:6.1f} items/s   "
          f"ratio {hl / seq:.1f}x (goal >= 30x)")


if __name__ == "__main__":
    main()
