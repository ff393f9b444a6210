"""Scene sampling throughput, with and without the remembered catalog-folder resolution.

Scene sampling looks catalog entries up tens of thousands of times per run (asset specs and
object categories, per object and per candidate). Each lookup locates the catalog folder: the
working directory's copy first, unless it is the packaged one itself, which needed both paths
fully resolved on every call. ``robostress.catalog._same_dir`` remembers that answer. This
bench samples the same scenes both ways, interleaved, in one run and prints scenes/s and their
ratio (goal: >= 1.3x), and, for context, the share of sampling time still spent in
``asset_catalog`` (under the profiler, which inflates small calls: the stat of the catalog file
that notices an edit mid-process, and path handling).

    python bench/sample.py [--family lab_tabletop] [--scenes 20] [--rounds 4]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import argparse
import cProfile
import pstats
import time

from robostress import catalog
from robostress.scene.sample import sample_scene


def _sample(family: str, n: int, seed: int) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        sample_scene(family, seed, i)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="lab_tabletop")
    ap.add_argument("--scenes", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=4)
    a = ap.parse_args()
    remembered = catalog._same_dir
    uncached = remembered.__wrapped__  # type: ignore[attr-defined]
    _sample(a.family, 4, 999)  # warm imports, meshes and the parsed catalog
    times: dict[str, float] = {"resolved every call": 0.0, "remembered": 0.0}
    ways = [("resolved every call", uncached), ("remembered", remembered)]
    for r in range(a.rounds):  # interleaved, one way first and then the other (noise hits both)
        for name, fn in ways if r % 2 == 0 else ways[::-1]:
            # every pass samples seeds new to this process (a repeat of a seed is faster)
            seed = 1000 + 2 * r + [w for w, _ in ways].index(name)
            catalog._same_dir = fn  # type: ignore[assignment]
            try:
                times[name] += _sample(a.family, a.scenes, seed)
            finally:
                catalog._same_dir = remembered
    n = a.scenes * a.rounds
    for name, t in times.items():
        print(f"{name:22s} {n / t:6.2f} scenes/s  ({t:.1f} s for {n} scenes)")
    print(f"speed-up: {times['resolved every call'] / times['remembered']:.2f}x (goal >= 1.3x)")
    prof = cProfile.Profile()
    prof.enable()
    _sample(a.family, a.scenes, 5000)
    prof.disable()
    st = pstats.Stats(prof)
    total = max(v[3] for v in st.stats.values())  # type: ignore[attr-defined]
    cat = sum(v[3] for k, v in st.stats.items() if k[2] == "asset_catalog")  # type: ignore[attr-defined]
    print(f"share of sampling time in asset_catalog (remembered, profiled): {100 * cat / total:.1f} %")


if __name__ == "__main__":
    main()
