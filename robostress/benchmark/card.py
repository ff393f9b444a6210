"""The dataset card (README.md) of an exported benchmark: Hugging Face front matter and the facts
a reader needs before using it (identity, schema, taxonomy, counts, licences)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from robostress.benchmark.load import Benchmark

RENDER_LICENCE = ("robosuite 1.5.2 (Franka Panda arm and gripper meshes)", "MIT")
CODE_LICENCE = "Apache-2.0"


def _front_matter(name: str, n_items: int) -> str:
    size = next(c for n, c in ((1e3, "n<1K"), (1e4, "1K<n<10K"), (1e5, "10K<n<100K"),
                               (1e6, "100K<n<1M"), (float("inf"), "n>1M")) if n_items < n)
    return "\n".join([
        "---", "license: other", "license_name: robostress-renders",
        f"pretty_name: robostress {name}",
        "task_categories:", "- visual-question-answering", "tags:", "- robotics", "- robustness",
        "- embodied", "- synthetic", "- mitsuba", f"size_categories:\n- {size}", "configs:",
        "- config_name: items", "  default: true", "  data_files:", "  - split: test",
        "    path: data/items-*.parquet", "- config_name: frames", "  data_files:", "  - split: test",
        "    path: data/frames-*.parquet", "---", ""])


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + \
        ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]


def _licences(bench: Benchmark) -> list[list[str]]:
    by_pkg: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for asset, p in sorted((bench.manifest.get("assets") or {}).items()):
        if isinstance(p, dict):
            by_pkg[(str(p.get("package")), str(p.get("version")), str(p.get("licence")))].append(asset)
    rows = [[f"{pkg} {ver}", lic, ", ".join(names)] for (pkg, ver, lic), names in sorted(by_pkg.items())]
    if any(s.robot is not None for s in bench.scenes.values()):
        rows.append([RENDER_LICENCE[0], RENDER_LICENCE[1], "robot"])
    return rows


def dataset_card(bench: Benchmark, features: dict[str, Any], counts: dict[str, int]) -> str:
    """README.md text of the export of ``bench`` (``features``: the two configs' ``datasets.Features``)."""
    m = bench.manifest
    name = str(m.get("name"))
    cells: Counter[tuple[str, str]] = Counter()
    sev: dict[tuple[str, str], set[int]] = defaultdict(set)
    frames: Counter[tuple[str, str]] = Counter()
    for f in bench.frames.values():
        frames[(f.stress.dimension, f.stress.subtype)] += 1
        sev[(f.stress.dimension, f.stress.subtype)].add(f.stress.severity)
    abilities: Counter[str] = Counter()
    for it in bench.items:
        cells[(it.dimension, it.subtype)] += 1
        abilities[f"{it.ability} ({it.format})"] += 1
    taxonomy = [[d, s, ",".join(map(str, sorted(sev[(d, s)]))), frames[(d, s)], cells[(d, s)]]
                for d, s in sorted(frames)]
    schema = [[cfg, ", ".join(f"`{k}`: {_type(v)}" for k, v in feats.items())] for cfg, feats in features.items()]
    lines = [_front_matter(name, counts["items"]), f"# robostress benchmark `{name}`", "",
             "Tabletop scenes rendered with Mitsuba 3, each stressed in one physical factor (material, "
             "lighting, viewpoint, geometry) at graded severities beside its clean twin (severity 0), "
             "with embodied questions whose truth comes from the renderer's exact ground truth.", "",
             f"- identity (plans, items, truth, masks; the same on every machine): `{m.get('identity')}`",
             f"- content hash (records and pixels): `{m.get('content_hash')}`",
             f"- schema versions: manifest {m.get('schema_version')}, "
             + ", ".join(f"{k} {v}" for k, v in sorted((m.get("versions") or {}).items())),
             f"- renderer: {json.dumps(m.get('renderer'), sort_keys=True)}",
             f"- {counts['items']} items on {counts['frames']} frames of {len(bench.scenes)} scenes", "",
             "## Loading", "", "```python", "from datasets import load_dataset",
             'items = load_dataset("<this folder or repo>", "items", split="test")   # question + image',
             'frames = load_dataset("<this folder or repo>", "frames", split="test") # RGB, masks, depth, free',
             "```", "",
             "`robostress eval benchmark_dir=<this folder>` evaluates it without Mitsuba: the folder is "
             "rebuilt from `records/` and the `frames` shards into the built benchmark, byte for byte "
             "(its content hash is checked), so item ids and scores equal those of the original build.",
             "", "## Schema", "", *_table(["config", "columns"], schema), "",
             "`truth` (items) and `record` (frames) are canonical JSON: the exact truth, and the full frame "
             "record (stress with requested and realised severity, per-object ground truth, render settings). "
             "Masks are 16-bit PNG instance ids (`record.id_map`), depth 16-bit PNG millimetres, free 16-bit "
             "PNG support ids. Coordinates in prompts and answers are permille of width and height.", "",
             "## Taxonomy", "", *_table(["dimension", "sub-type", "severities", "frames", "items"], taxonomy),
             "", *_table(["ability (format)", "items"], [[a, n] for a, n in sorted(abilities.items())]), "",
             "## Licences", "",
             f"The robostress code is {CODE_LICENCE}. The images are renders of these assets; their "
             "licences apply to the objects shown:", "",
             *_table(["source", "licence", "assets"], _licences(bench) or [["procedural objects only", "-", "-"]]),
             ""]
    return "\n".join(lines)


def _type(feature: Any) -> str:
    kind = type(feature).__name__
    if kind == "Value":
        return str(feature.dtype)
    if kind in ("Sequence", "List"):
        return f"list[{_type(getattr(feature, 'feature', None))}]"
    return kind
